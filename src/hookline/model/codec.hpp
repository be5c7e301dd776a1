#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "hookline/model/catalog.hpp"
#include "hookline/model/entities.hpp"

namespace hookline::model {

namespace json = boost::json;

//! Renders `value` the way the reference prints payloads: two-space indentation, `"key": value`,
//! keys in the object's own order, no trailing newline (JSON.stringify(v, null, 2), see
//! StringifyJson). Doubles render as JavaScript renders them (`1.5`, `1e+300`, `0` for -0); one
//! that is not finite (a literal like 1e999 overflows when parsed) renders as null, as
//! JSON.stringify does, so the output is always valid JSON.
std::string RenderWebhookJson(const json::value& value);
//! The same for an object, without first copying it into a json::value.
std::string RenderWebhookJson(const json::object& object);

//! Everything that goes into one webhook body.
struct PayloadParts {
  const EventSpec* spec = nullptr;
  std::string company_id;
  Millis timestamp = 0;
  json::object action_data;  //!< already in the reference's key order, extras last
  Lead lead;
  std::optional<std::string> latest_status;
  std::vector<Activity> activity;  //!< oldest first, the event itself last
  Campaign campaign;
  Sender sender;
};

//! Builds the payload document in the reference's key order:
//! event, company_id, timestamp, data{actionData, lead, campaign, sender}. Allocated from
//! `storage` (default: the heap), which must outlive it.
json::object BuildPayload(const PayloadParts& parts, json::storage_ptr storage = {});

//! A webhook body parsed tolerantly. The document keeps every field, known or not, in the
//! order received, so rendering it again reproduces the input's shape.
struct WebhookEvent {
  json::object document;
  std::string event;                      //!< the `event` string as sent
  EventType type = EventType::kUnknown;   //!< kUnknown for names outside the catalog
  std::optional<std::string> company_id;  //!< null or absent -> nullopt
  std::optional<Millis> timestamp;        //!< absent, null or unparsable -> nullopt

  //! Sub-objects; nullptr when absent, null or not an object.
  const json::object* Data() const;
  const json::object* ActionData() const;
  const json::object* LeadObject() const;
  const json::object* CampaignObject() const;
  const json::object* SenderObject() const;
};

//! Why a body is not a webhook event.
struct ParseFailure {
  std::string reason;
};

//! Parses a webhook body. Fails only when the body is not valid UTF-8 JSON, is not an object,
//! or has no string `event`; everything else (nulls, missing or extra fields, unknown names)
//! is accepted. A number with a fraction or an exponent is the double nearest to its text, as
//! JavaScript reads it (ParseJsonExact). On failure `failure` is set and nullopt returned.
//! The document is allocated from `storage` (default: the heap), which must outlive the
//! returned event.
std::optional<WebhookEvent> ParseWebhook(std::string_view body, ParseFailure* failure,
                                         json::storage_ptr storage = {});

//! True when `value` holds a number that overflowed to infinity (or NaN) when parsed.
bool HasNonFiniteNumber(const json::value& value);

//! Field helpers tolerant of absent, null and wrongly typed values.
std::optional<std::string_view> StringField(const json::object& o, std::string_view key);
std::optional<std::int64_t> IntField(const json::object& o, std::string_view key);
const json::object* ObjectField(const json::object& o, std::string_view key);
const json::array* ArrayField(const json::object& o, std::string_view key);

}  // namespace hookline::model
