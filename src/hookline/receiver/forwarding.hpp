#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "hookline/model/codec.hpp"
#include "hookline/store/store.hpp"

namespace hookline::receiver {

//! The tenant that owns the consumer's forwarding endpoints (the consumer has one owner).
inline constexpr std::string_view kReceiverCompany = "receiver";

//! What forwarding needs of a parsed webhook: a few strings, so the parsed document itself can
//! be dropped before the write (not on the store's writer thread).
struct ForwardingFacts {
  std::string event;
  std::string lead_id, campaign_id, sender_id;  //!< "" when absent
  std::optional<Millis> timestamp;
};
ForwardingFacts FactsOf(const model::WebhookEvent& event);

//! Queues `record` (an accepted webhook, `facts` from its parse) to every forwarding endpoint
//! that subscribes to it, in `tx`. The forwarded body is the exact raw body; its webhook-id is
//! the record's rcv_ id. Returns how many deliveries were queued (0: nothing subscribes).
int ForwardReceived(store::StoreTx& tx, const store::ReceivedRecord& record,
                    const ForwardingFacts& facts, Millis now);

//! Queues `record` again to one endpoint (a replay): a fresh delivery, or the existing one
//! made pending with a fresh retry schedule. Returns 1 when queued, 0 when it already is.
int ReplayToEndpoint(store::StoreTx& tx, const store::ReceivedRecord& record,
                     std::string_view endpoint_id, Millis now);

}  // namespace hookline::receiver
