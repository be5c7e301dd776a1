#include "hookline/model/catalog.hpp"

#include <array>

namespace hookline::model {

namespace {

const std::vector<EventSpec>& Specs() {
  static const std::vector<EventSpec>* specs = new std::vector<EventSpec>{
      {EventType::kInviteSent, "invite-sent", Channel::kLinkedin, "Send connection request",
       "Contacted", {"message", "invitation_id"}, {}},
      {EventType::kInviteAccepted, "invite-accepted", Channel::kLinkedin, "Invite Accepted",
       "Engaged", {"message"}, {}},
      {EventType::kMessageSent, "message-sent", Channel::kLinkedin, "Send Message", "Contacted",
       {"message", "latest_chat_id", "latest_message_id"}, {"message"}},
      {EventType::kMessageReplied, "message-replied", Channel::kLinkedin, "Message Replied",
       "Replied", {"replay_message"}, {"replay_message"}},
      {EventType::kInmailSent, "inmail-sent", Channel::kLinkedin, "InMail", "Contacted",
       {"subject", "message", "latest_chat_id", "latest_message_id"}, {"subject", "message"}},
      {EventType::kInmailReplied, "inmail-replied", Channel::kLinkedin, "Message Replied",
       "Replied", {"replay_message"}, {"replay_message"}},
      {EventType::kEmailSent, "email-sent", Channel::kEmail, "Send Email", "Completed",
       {"subject", "message", "messageId"}, {"subject", "message"}},
      {EventType::kEmailOpened, "email-opened", Channel::kEmail, "Email Opened", "Engaged",
       {"subject", "message"}, {}},
      {EventType::kEmailClicked, "email-clicked", Channel::kEmail, "Link Clicked", "Engaged",
       {"subject", "message"}, {}},
      {EventType::kEmailReplied, "email-replied", Channel::kEmail, "Mail Replied", "Completed",
       {"message"}, {"message"}},
  };
  return *specs;
}

}  // namespace

std::span<const EventSpec> AllEvents() { return Specs(); }

const EventSpec* FindEvent(std::string_view name) {
  for (const auto& spec : Specs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const EventSpec& SpecOf(EventType type) { return Specs().at(static_cast<size_t>(type)); }

std::string_view ChannelName(Channel c) {
  return c == Channel::kLinkedin ? "linkedin" : "email";
}

std::optional<Channel> ParseChannel(std::string_view name) {
  if (name == "linkedin") return Channel::kLinkedin;
  if (name == "email") return Channel::kEmail;
  return std::nullopt;
}

std::optional<unsigned> ActionBit(std::string_view action) {
  // Stored in databases: append new labels, never renumber. ("Message Replied" is appended
  // by message-replied and inmail-replied alike.)
  static constexpr std::array<std::string_view, 9> kBits = {
      "Send connection request", "Invite Accepted", "Send Message", "Message Replied", "InMail",
      "Send Email",              "Email Opened",    "Link Clicked", "Mail Replied",
  };
  for (unsigned bit = 0; bit < kBits.size(); ++bit) {
    if (kBits[bit] == action) return bit;
  }
  return std::nullopt;
}

std::string KnownEventNames() {
  std::string out;
  for (const auto& spec : Specs()) {
    if (!out.empty()) out += ", ";
    out += spec.name;
  }
  return out;
}

}  // namespace hookline::model
