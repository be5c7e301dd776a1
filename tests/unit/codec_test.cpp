#include "hookline/model/codec.hpp"

#include <gtest/gtest.h>

#include <set>

#include <boost/json.hpp>

#include "test_support.hpp"

namespace hookline::model {
namespace {

class ReferenceExample : public ::testing::TestWithParam<std::string> {};

// Each reference example parses and renders back byte for byte: key order, spacing, the
// sic spellings (replay_message, messageId) and the millisecond timestamps.
TEST_P(ReferenceExample, ParsesAndRendersBackIdentically) {
  const std::string original = TrimTrailingNewlines(ReadTestFile("examples/" + GetParam() + ".json"));
  ASSERT_FALSE(original.empty());
  ParseFailure failure;
  auto event = ParseWebhook(original, &failure);
  ASSERT_TRUE(event) << failure.reason;
  EXPECT_EQ(event->event, GetParam());
  EXPECT_NE(event->type, EventType::kUnknown);
  EXPECT_EQ(event->company_id, "67787093-cc3a-44ca-8a12-5bf1afa3194c");
  ASSERT_TRUE(event->timestamp);
  EXPECT_EQ(RenderWebhookJson(event->document), original);
  EXPECT_EQ(RenderWebhookJson(json::value(event->document)), original);  // as a value, too
}

// Rebuilding each example from typed parts gives the same bytes: BuildPayload knows the
// reference's key order without copying it from input.
TEST_P(ReferenceExample, BuildPayloadFromPartsMatchesReference) {
  const std::string original = TrimTrailingNewlines(ReadTestFile("examples/" + GetParam() + ".json"));
  ParseFailure failure;
  auto event = ParseWebhook(original, &failure);
  ASSERT_TRUE(event);
  const auto& lead = *event->LeadObject();
  const auto& campaign = *event->CampaignObject();
  const auto& sender = *event->SenderObject();
  auto opt = [](const json::object& o, std::string_view k) -> std::optional<std::string> {
    auto v = StringField(o, k);
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
  };
  PayloadParts parts;
  parts.spec = FindEvent(event->event);
  parts.company_id = *event->company_id;
  parts.timestamp = *event->timestamp;
  parts.action_data = *event->ActionData();
  parts.lead = Lead{*opt(lead, "id"), *opt(lead, "name"), opt(lead, "profile_url"), opt(lead, "email"),
                    opt(lead, "company_name"), opt(lead, "location"), opt(lead, "job_title"),
                    opt(lead, "profile_image")};
  parts.latest_status = opt(lead, "latest_status");
  for (const auto& a : *ArrayField(lead, "activity")) {
    const auto& o = a.as_object();
    parts.activity.push_back({*opt(o, "action"), *ParseIso8601(*StringField(o, "action_time"))});
  }
  parts.campaign = Campaign{*opt(campaign, "id"), *opt(campaign, "name"),
                            *ParseChannel(*StringField(campaign, "campaign_type")),
                            *IntField(campaign, "total_leads"), *IntField(campaign, "complete_end_of_sequence")};
  parts.sender = Sender{*opt(sender, "id"), *opt(sender, "name"), opt(sender, "email")};
  EXPECT_EQ(RenderWebhookJson(BuildPayload(parts)), original);
  // The spec agrees with the example: channel, appended action, default status.
  EXPECT_EQ(ChannelName(parts.spec->channel), *StringField(campaign, "campaign_type"));
  EXPECT_EQ(parts.activity.back().action, parts.spec->action);
  EXPECT_EQ(parts.activity.back().action_time, parts.timestamp);
  EXPECT_EQ(parts.latest_status, std::string(parts.spec->default_status));
  std::vector<std::string> keys;
  for (const auto& kv : parts.action_data) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, std::vector<std::string>(parts.spec->action_fields.begin(), parts.spec->action_fields.end()));
}

INSTANTIATE_TEST_SUITE_P(AllTen, ReferenceExample,
                         ::testing::Values("invite-sent", "invite-accepted", "message-sent",
                                           "message-replied", "inmail-sent", "inmail-replied",
                                           "email-sent", "email-opened", "email-clicked",
                                           "email-replied"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (auto& c : name) if (c == '-') c = '_';
                           return name;
                         });

TEST(Codec, UnknownFieldsAreKeptInPlace) {
  const std::string body =
      R"({"event":"invite-sent","x_first":1,"company_id":null,"timestamp":"2026-03-24T10:15:00.000Z",)"
      R"("data":{"actionData":{"message":"m","extra":[1,2]},"lead":{"id":"L","tags":["a"],"name":"N"},)"
      R"("campaign":null,"sender":{}},"trailing":{"k":"v"}})";
  ParseFailure failure;
  auto event = ParseWebhook(body, &failure);
  ASSERT_TRUE(event) << failure.reason;
  EXPECT_FALSE(event->company_id);
  EXPECT_EQ(event->CampaignObject(), nullptr);
  std::vector<std::string> keys;
  for (const auto& kv : event->document) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"event", "x_first", "company_id", "timestamp", "data", "trailing"}));
  // Render, parse again, render: stable, and equal to the input as JSON.
  const std::string rendered = RenderWebhookJson(event->document);
  auto again = ParseWebhook(rendered, &failure);
  ASSERT_TRUE(again);
  EXPECT_EQ(RenderWebhookJson(again->document), rendered);
  EXPECT_EQ(json::parse(rendered), json::parse(body));
}

TEST(Codec, UnknownEventNameIsAccepted) {
  ParseFailure failure;
  auto event = ParseWebhook(R"({"event":"meeting-booked","data":{}})", &failure);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->type, EventType::kUnknown);
  EXPECT_EQ(event->event, "meeting-booked");
  EXPECT_FALSE(event->timestamp);
}

TEST(Codec, NullsAndMissingOptionalFieldsAreTolerated) {
  ParseFailure failure;
  auto event = ParseWebhook(
      R"({"event":"email-opened","timestamp":null,"data":{"actionData":null,"lead":{"id":"x","email":null}}})",
      &failure);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->type, EventType::kEmailOpened);
  EXPECT_EQ(event->ActionData(), nullptr);
  ASSERT_NE(event->LeadObject(), nullptr);
  EXPECT_FALSE(StringField(*event->LeadObject(), "email"));
  EXPECT_FALSE(StringField(*event->LeadObject(), "name"));
}

TEST(Codec, RejectsWhatIsNotAnEvent) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "not valid JSON"},
      {"{\"event\":", "not valid JSON"},
      {"[1,2]", "not a JSON object"},
      {"{\"data\":{}}", "no string field 'event'"},
      {"{\"event\":42}", "no string field 'event'"},
      {"{\"event\":\"invite-sent\",\"x\":\"\xff\xfe\"}", "not valid JSON"},
  };
  for (const auto& [body, reason] : cases) {
    ParseFailure failure;
    EXPECT_FALSE(ParseWebhook(body, &failure)) << body;
    EXPECT_NE(failure.reason.find(reason), std::string::npos) << failure.reason;
  }
}

TEST(Codec, RenderingEscapesStrings) {
  json::object o{{"q", "say \"hi\"\n<p>caf\xc3\xa9</p>"}, {"e", json::array{}}, {"o", json::object{}}};
  EXPECT_EQ(RenderWebhookJson(o),
            "{\n  \"q\": \"say \\\"hi\\\"\\n<p>caf\xc3\xa9</p>\",\n  \"e\": [],\n  \"o\": {}\n}");
}

// Regression (found by the fuzzer): 1e999 parses to infinity; rendering it must still give
// valid JSON.
TEST(Codec, NumbersThatOverflowRenderAsNullNotInvalidJson) {
  ParseFailure failure;
  auto event = ParseWebhook(R"({"event":"invite-sent","x":66965311986249E8360,"y":1.5})", &failure);
  ASSERT_TRUE(event) << failure.reason;
  EXPECT_TRUE(HasNonFiniteNumber(event->document));
  const std::string rendered = RenderWebhookJson(event->document);
  EXPECT_NE(rendered.find("\"x\": null"), std::string::npos) << rendered;
  EXPECT_TRUE(ParseWebhook(rendered, &failure)) << rendered;
}

TEST(Catalog, HasTheTenEventsOfTheReference) {
  EXPECT_EQ(AllEvents().size(), 10u);
  EXPECT_EQ(SpecOf(EventType::kInmailReplied).action, "Message Replied");
  EXPECT_EQ(SpecOf(EventType::kEmailSent).action_fields.back(), "messageId");
  EXPECT_EQ(FindEvent("nope"), nullptr);
}

// Every action the catalog appends has a bit of its own, and the bits are the ones stored
// by migration 7 (renumbering one would misread every database written before).
TEST(Catalog, EveryCatalogActionHasItsOwnStoredBit) {
  std::set<unsigned> bits;
  for (const auto& spec : AllEvents()) {
    auto bit = ActionBit(spec.action);
    ASSERT_TRUE(bit) << spec.action;
    bits.insert(*bit);
  }
  EXPECT_EQ(bits.size(), 9u);  // ten events, nine labels: the two reply events share one
  EXPECT_EQ(ActionBit("Send connection request"), 0u);
  EXPECT_EQ(ActionBit("Mail Replied"), 8u);
  EXPECT_FALSE(ActionBit("Meeting Booked"));
  EXPECT_FALSE(ActionBit("send message"));  // labels are exact
}

}  // namespace
}  // namespace hookline::model
