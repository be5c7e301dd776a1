#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hookline::model {

//! The ten events of the Outboundry reference. `kUnknown` is an event name we do not know:
//! it is accepted on receipt and kept, never produced.
enum class EventType {
  kInviteSent,
  kInviteAccepted,
  kMessageSent,
  kMessageReplied,
  kInmailSent,
  kInmailReplied,
  kEmailSent,
  kEmailOpened,
  kEmailClicked,
  kEmailReplied,
  kUnknown,
};

enum class Channel { kLinkedin, kEmail };

//! What the reference says about one event.
struct EventSpec {
  EventType type;
  std::string_view name;            //!< wire name, e.g. "invite-sent"
  Channel channel;                  //!< must match the campaign's campaign_type
  std::string_view action;          //!< label appended to lead.activity
  std::string_view default_status;  //!< lead.latest_status when the caller gives none
  //! actionData keys in the reference's order.
  std::vector<std::string_view> action_fields;
  //! actionData keys a caller must supply (non-null strings).
  std::vector<std::string_view> required_fields;
};

//! All ten specs, in the reference's order.
std::span<const EventSpec> AllEvents();
//! The spec for `name`, or nullptr when the name is not one of the ten.
const EventSpec* FindEvent(std::string_view name);
const EventSpec& SpecOf(EventType type);  //!< type must not be kUnknown

std::string_view ChannelName(Channel c);  //!< "linkedin" | "email"
std::optional<Channel> ParseChannel(std::string_view name);

//! The bit that stands for `action` (an `activity[].action` label of the catalog) in a set
//! of actions kept as an integer, or nullopt for a label the catalog does not append. The
//! numbers are stored (the receiver's timeline summaries): never renumber one.
std::optional<unsigned> ActionBit(std::string_view action);

//! Comma-separated list of the ten names, for error messages.
std::string KnownEventNames();

}  // namespace hookline::model
