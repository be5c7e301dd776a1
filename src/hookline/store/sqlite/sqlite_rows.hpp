#pragma once

// Row codecs shared by the SQLite transaction code: the JSON text kept in list and header
// columns, and the column lists and readers of rows that more than one area reads.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hookline/store/sqlite/sqlite_connection.hpp"
#include "hookline/store/store.hpp"

namespace hookline::store::sqlite {

//! A list of strings as the JSON array text stored in a column, and back.
std::string EncodeStrings(const std::vector<std::string>& items);
std::vector<std::string> DecodeStrings(const std::string& text);

//! Header pairs as the JSON array-of-pairs text stored in a column, and back.
std::string EncodeHeaders(const HeaderList& headers);
HeaderList DecodeHeaders(const std::string& text);

//! A list of activities as the JSON text kept in a column, [["Send Message",1774353600000],...]:
//! readable with SQLite's JSON functions (the funnels' fallback), one column instead of a row
//! per entry. Decoding keeps the stored order; throws StoreError on anything else.
std::string EncodeActivities(const std::vector<model::Activity>& activities);
std::vector<model::Activity> DecodeActivities(std::string_view text);
//! The catalog actions among `activities` as a set of model::ActionBit bits, kept beside
//! them so that funnels count rows by bits from an index alone.
std::int64_t ActionBits(const std::vector<model::Activity>& activities);

//! The columns ReadEndpoint expects, in order.
inline constexpr std::string_view kEndpointColumns =
    "id, company_id, url, description, event_types, headers, rate_limit_per_s, secret_sealed, "
    "disabled, disabled_reason, created_at, updated_at, ordering, previous_secret_sealed, "
    "previous_secret_expires_at, failing_since";
EndpointRecord ReadEndpoint(const Statement& s);

//! The columns ReadEvent expects, in order.
inline constexpr std::string_view kEventColumns =
    "seq, id, company_id, event, campaign_id, lead_id, sender_id, occurred_at, created_at, payload";
EventRecord ReadEvent(const Statement& s);

model::Lead ReadLead(const Statement& s);
model::Campaign ReadCampaign(const Statement& s);

//! Binds the mutable columns of an endpoint: ?3..?10 and ?12..?16 (?1, ?2, ?11 are the
//! caller's: ids and created_at).
void BindEndpointState(Statement& s, const EndpointRecord& e);

}  // namespace hookline::store::sqlite
