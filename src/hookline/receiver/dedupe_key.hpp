#pragma once

#include <string>

#include <boost/json/object.hpp>

#include "hookline/http/message.hpp"
#include "hookline/store/store.hpp"

namespace hookline::receiver {

//! The duplicate key of a webhook for `source`: its configured JSON fields when it has any
//! (and the body is JSON), else the webhook-id header, else the SHA-256 of the raw body.
//! A field is a dotted path through nested objects ("data.lead.id"); one that is missing
//! counts as null. Never throws on any document or path.
std::string DedupeKey(const store::SourceRecord& source, const http::Request& request,
                      const boost::json::object* document);

}  // namespace hookline::receiver
