#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "hookline/http/message.hpp"
#include "hookline/store/store.hpp"

namespace hookline::receiver {

//! The Standard Webhooks headers of a request, empty where absent: `webhook-id`,
//! `webhook-timestamp` and `webhook-signature`, or, when it has none of those three, the same
//! three named `svix-` (senders hosted on Svix). Never a mix of the two sets.
struct SignatureHeaders {
  std::string_view id, timestamp, signature;
};
SignatureHeaders SignatureHeadersOf(const http::Request& request);

//! The duplicate key of a webhook for `source`: its configured JSON fields when it has any
//! (and the body is JSON), else the message id (SignatureHeadersOf), else the SHA-256 of the
//! raw body.
//! A field is a dotted path through nested objects ("data.lead.id"); one that is missing
//! counts as null. Never throws on any document or path.
std::string DedupeKey(const store::SourceRecord& source, const http::Request& request,
                      const boost::json::object* document);

}  // namespace hookline::receiver
