#include "hookline/store/sqlite/sqlite_rows.hpp"

#include <boost/json.hpp>

#include "hookline/model/catalog.hpp"

namespace hookline::store::sqlite {

namespace json = boost::json;

std::string EncodeActivities(const std::vector<model::Activity>& activities) {
  json::array out;
  out.reserve(activities.size());
  for (const auto& a : activities) out.push_back(json::array{json::string(a.action), a.action_time});
  return json::serialize(out);
}

std::vector<model::Activity> DecodeActivities(std::string_view text) {
  std::vector<model::Activity> out;
  boost::system::error_code ec;
  const json::value parsed = json::parse(text, ec);
  const json::array* entries = ec ? nullptr : parsed.if_array();
  if (entries == nullptr) throw UnreadableValueError("a stored activity list is not a JSON array");
  out.reserve(entries->size());
  for (const auto& item : *entries) {
    const json::array* pair = item.if_array();
    if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_int64()) {
      throw UnreadableValueError("a stored activity is not [action, time]");
    }
    out.push_back({std::string((*pair)[0].get_string()), (*pair)[1].get_int64()});
  }
  return out;
}

std::int64_t ActionBits(const std::vector<model::Activity>& activities) {
  std::int64_t bits = 0;
  for (const auto& a : activities) {
    if (auto bit = model::ActionBit(a.action)) bits |= std::int64_t{1} << *bit;
  }
  return bits;
}

std::string EncodeStrings(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return json::serialize(a);
}

std::vector<std::string> DecodeStrings(const std::string& text) {
  std::vector<std::string> out;
  const json::value parsed = json::parse(text);
  for (const auto& v : parsed.as_array()) out.emplace_back(v.as_string());
  return out;
}

std::string EncodeHeaders(const HeaderList& headers) {
  json::array a;
  for (const auto& [k, v] : headers) a.push_back(json::array{json::string(k), json::string(v)});
  return json::serialize(a);
}

HeaderList DecodeHeaders(const std::string& text) {
  HeaderList out;
  // Header values are stored as received, and a client may send bytes that are not UTF-8
  // (Beast accepts 0x80-0xFF): serializing passed them through, so reading must accept them.
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  const json::value parsed = json::parse(text, {}, options);
  for (const auto& v : parsed.as_array()) {
    const auto& pair = v.as_array();
    out.emplace_back(std::string(pair.at(0).as_string()), std::string(pair.at(1).as_string()));
  }
  return out;
}

EndpointRecord ReadEndpoint(const Statement& s) {
  EndpointRecord e;
  e.id = s.Text(0);
  e.company_id = s.Text(1);
  e.url = s.Text(2);
  e.description = s.OptText(3);
  e.event_types = DecodeStrings(s.Text(4));
  e.headers = DecodeHeaders(s.Text(5));
  e.rate_limit_per_s = s.OptInt(6);
  e.secret_sealed = s.Blob(7);
  e.disabled = s.Int(8) != 0;
  e.disabled_reason = s.OptText(9);
  e.created_at = s.Int(10);
  e.updated_at = s.Int(11);
  e.ordering = ParseOrdering(s.Text(12)).value_or(Ordering::kNone);
  if (!s.IsNull(13)) e.previous_secret_sealed = s.Blob(13);
  e.previous_secret_expires_at = s.OptInt(14);
  e.failing_since = s.OptInt(15);
  return e;
}

EventRecord ReadEvent(const Statement& s) {
  EventRecord e;
  e.seq = s.Int(0);
  e.id = s.Text(1);
  e.company_id = s.Text(2);
  e.event = s.Text(3);
  e.campaign_id = s.Text(4);
  e.lead_id = s.Text(5);
  e.sender_id = s.Text(6);
  e.occurred_at = s.Int(7);
  e.created_at = s.Int(8);
  e.payload = s.Blob(9);
  return e;
}

model::Lead ReadLead(const Statement& s) {
  model::Lead l;
  l.id = s.Text(0);
  l.name = s.Text(1);
  l.profile_url = s.OptText(2);
  l.email = s.OptText(3);
  l.company_name = s.OptText(4);
  l.location = s.OptText(5);
  l.job_title = s.OptText(6);
  l.profile_image = s.OptText(7);
  return l;
}

model::Campaign ReadCampaign(const Statement& s) {
  model::Campaign c;
  c.id = s.Text(0);
  c.name = s.Text(1);
  c.campaign_type = model::ParseChannel(s.Text(2)).value_or(model::Channel::kLinkedin);
  c.total_leads = s.Int(3);
  c.complete_end_of_sequence = s.Int(4);
  return c;
}

void BindEndpointState(Statement& s, const EndpointRecord& e) {
  s.Bind(3, e.url).Bind(4, e.description).Bind(5, EncodeStrings(e.event_types))
      .Bind(6, EncodeHeaders(e.headers)).Bind(7, e.rate_limit_per_s).BindBlob(8, e.secret_sealed)
      .Bind(9, std::int64_t{e.disabled ? 1 : 0}).Bind(10, e.disabled_reason).Bind(12, e.updated_at)
      .Bind(13, OrderingName(e.ordering)).Bind(15, e.previous_secret_expires_at)
      .Bind(16, e.failing_since);
  if (e.previous_secret_sealed) {
    s.BindBlob(14, *e.previous_secret_sealed);
  } else {
    s.BindNull(14);
  }
}

}  // namespace hookline::store::sqlite
