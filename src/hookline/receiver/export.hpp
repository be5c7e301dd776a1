#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "hookline/store/store.hpp"

namespace hookline::receiver {

enum class ExportWhat { kReceived, kLeads, kReplies };
enum class ExportFormat { kJsonl, kCsv };

std::optional<ExportWhat> ParseExportWhat(std::string_view s);      //!< received|leads|replies
std::optional<ExportFormat> ParseExportFormat(std::string_view s);  //!< jsonl|csv

//! Called after each page with (rows written, rows in all).
using ExportProgress = std::function<void(std::int64_t done, std::int64_t total)>;

//! Writes the raw log, the projected leads (CSV: one row per lead and campaign) or the
//! replies to `out`, page by page (bounded memory). `since` filters received (received_at)
//! and replies (replied_at); `company_id` leads and replies (the raw log is not per company:
//! it must be nullopt there, else std::invalid_argument). Returns the number of records
//! written.
std::int64_t Export(store::Store& store, ExportWhat what, ExportFormat format,
                    std::optional<Millis> since, const std::optional<std::string>& company_id,
                    std::ostream& out, const ExportProgress& progress);

//! One CSV field, quoted when it must be (RFC 4180). A value that starts with `=`, `+`, `-`,
//! `@`, a tab or a carriage return gets a `'` in front, so that a spreadsheet opens it as text,
//! not as a formula (OWASP's advice against CSV injection); `-5` is written `'-5`.
std::string CsvField(std::string_view value);

}  // namespace hookline::receiver
