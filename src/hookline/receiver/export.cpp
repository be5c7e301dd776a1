#include "hookline/receiver/export.hpp"

#include <stdexcept>

#include <boost/json.hpp>

#include "hookline/util/json_text.hpp"
#include "hookline/views/json_views.hpp"

namespace hookline::receiver {

namespace json = boost::json;

namespace {

constexpr int kPage = 500;

void CsvRow(std::ostream& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out << ',';
    out << CsvField(fields[i]);
  }
  out << "\r\n";
}

std::string OrEmpty(const std::optional<std::string>& s) { return s.value_or(""); }

}  // namespace

std::optional<ExportWhat> ParseExportWhat(std::string_view s) {
  if (s == "received") return ExportWhat::kReceived;
  if (s == "leads") return ExportWhat::kLeads;
  if (s == "replies") return ExportWhat::kReplies;
  return std::nullopt;
}

std::optional<ExportFormat> ParseExportFormat(std::string_view s) {
  if (s == "jsonl") return ExportFormat::kJsonl;
  if (s == "csv") return ExportFormat::kCsv;
  return std::nullopt;
}

std::string CsvField(std::string_view raw) {
  // OWASP's CSV injection advice: a spreadsheet reads a cell that starts with one of these as
  // a formula (and the texts exported here are written by strangers), so such a cell starts
  // with a quote, which makes it text.
  std::string neutralized;
  std::string_view value = raw;
  if (!raw.empty() && std::string_view("=+-@\t\r").find(raw.front()) != std::string_view::npos) {
    neutralized.reserve(raw.size() + 1);
    neutralized += '\'';
    neutralized += raw;
    value = neutralized;
  }
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::int64_t Export(store::Store& store, ExportWhat what, ExportFormat format,
                    std::optional<Millis> since, const std::optional<std::string>& company_id,
                    std::ostream& out, const ExportProgress& progress) {
  if (what == ExportWhat::kReceived && company_id) {
    throw std::invalid_argument("the raw log is not per company: a company id filters leads and replies only");
  }
  const bool csv = format == ExportFormat::kCsv;
  std::int64_t total = 0;
  store.Read([&](store::StoreTx& tx) {
    total = what == ExportWhat::kReceived ? tx.CountReceived(since)
            : what == ExportWhat::kLeads  ? tx.CountProjectedLeads(company_id)
                                          : tx.CountReplies(company_id, since);
  });
  std::int64_t done = 0;
  if (what == ExportWhat::kReceived) {
    if (csv) CsvRow(out, {"id", "source_id", "status", "reason", "event", "received_at", "body"});
    store::ReceivedFilter filter;
    filter.since = since;
    filter.limit = kPage;
    for (;;) {
      std::vector<store::ReceivedRecord> page;
      store.Read([&](store::StoreTx& tx) { page = tx.ListReceived(filter); });
      for (const auto& r : page) {
        if (csv) {
          CsvRow(out, {r.id, r.source_id, r.status, OrEmpty(r.reason), OrEmpty(r.event),
                       FormatIso8601(r.received_at), r.body});
        } else {
          json::object headers;
          for (const auto& [k, v] : r.headers) headers[k] = v;
          json::object line{{"id", r.id}, {"source_id", r.source_id}, {"status", r.status},
                            {"reason", r.reason ? json::value(*r.reason) : nullptr},
                            {"event", r.event ? json::value(*r.event) : nullptr},
                            {"received_at", FormatIso8601(r.received_at)},
                            {"headers", std::move(headers)}};
          views::PutRawBytes(line, "body", r.body);
          out << StringifyJson(line) << '\n';
        }
      }
      done += static_cast<std::int64_t>(page.size());
      if (progress) progress(done, total);
      if (page.size() < static_cast<size_t>(kPage)) break;
      filter.after_seq = page.back().seq;
    }
  } else if (what == ExportWhat::kLeads) {
    if (csv) {
      CsvRow(out, {"lead_id", "name", "email", "company_name", "location", "job_title", "profile_url",
                   "campaign_id", "latest_status", "actions", "first_action_at", "last_action",
                   "last_action_at", "company_id"});
    }
    store::CompanyPage request{company_id, std::nullopt, kPage};
    for (;;) {
      std::vector<std::pair<store::CompanyLead, std::vector<model::Enrollment>>> page;
      store.Read([&](store::StoreTx& tx) {
        for (auto& row : tx.ListProjectedLeads(std::nullopt, std::nullopt, request)) {
          auto enrollments = tx.ProjectedEnrollments(row.company_id, row.lead.id);
          page.emplace_back(std::move(row), std::move(enrollments));
        }
      });
      for (const auto& [row, enrollments] : page) {
        const model::Lead& lead = row.lead;
        if (!csv) {
          out << StringifyJson(views::ProjectedLeadView(row.company_id, lead, enrollments)) << '\n';
          continue;
        }
        for (const auto& e : enrollments) {
          const bool any = !e.activity.empty();
          CsvRow(out, {lead.id, lead.name, OrEmpty(lead.email), OrEmpty(lead.company_name),
                       OrEmpty(lead.location), OrEmpty(lead.job_title), OrEmpty(lead.profile_url),
                       e.campaign_id, OrEmpty(e.latest_status), std::to_string(e.activity.size()),
                       any ? FormatIso8601(e.activity.front().action_time) : "",
                       any ? e.activity.back().action : "",
                       any ? FormatIso8601(e.activity.back().action_time) : "", row.company_id});
        }
      }
      done += static_cast<std::int64_t>(page.size());
      if (progress) progress(done, total);
      if (page.size() < static_cast<size_t>(kPage)) break;
      request.after.emplace(page.back().first.company_id, page.back().first.lead.id);
    }
  } else {
    if (csv) {
      CsvRow(out, {"lead_id", "campaign_id", "channel", "event", "text", "replied_at", "received_id", "company_id"});
    }
    std::optional<store::ReplyRecord> after;
    for (;;) {
      std::vector<store::ReplyRecord> page;
      store.Read([&](store::StoreTx& tx) { page = tx.ListReplies(company_id, since, kPage, after); });
      for (const auto& r : page) {
        if (csv) {
          CsvRow(out, {r.lead_id, r.campaign_id, OrEmpty(r.channel), r.event, OrEmpty(r.text),
                       FormatIso8601(r.replied_at), r.received_id, r.company_id});
        } else {
          out << StringifyJson(views::ReplyView(r)) << '\n';
        }
      }
      done += static_cast<std::int64_t>(page.size());
      if (progress) progress(done, total);
      if (page.size() < static_cast<size_t>(kPage)) break;
      after = page.back();
    }
  }
  out.flush();
  return done;
}

}  // namespace hookline::receiver
