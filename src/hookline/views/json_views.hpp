#pragma once

#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "hookline/model/entities.hpp"
#include "hookline/store/store.hpp"

namespace hookline::views {

//! JSON views shared by the provider and consumer APIs and the receiver's export.
boost::json::object SenderView(const model::Sender& sender);
//! `with_completion`: whether `completed` is known (the provider) or not (the receiver).
boost::json::object LeadView(const model::Lead& lead,
                             const std::vector<model::Enrollment>& enrollments,
                             bool with_completion = true);
//! `funnel` holds distinct-lead counts per stage, in stage order.
boost::json::object CampaignView(const model::Campaign& campaign, boost::json::object funnel);
boost::json::object EndpointView(const store::EndpointRecord& endpoint);
//! A consumer's source, as listed and as created (the token, shown once, is added by its creator).
boost::json::object SourceView(const store::SourceRecord& source);
boost::json::object EventSummaryView(const store::EventRecord& event);
boost::json::object AttemptView(const store::AttemptRecord& attempt);
boost::json::object ReplyView(const store::ReplyRecord& reply);
//! The receiver's lead and campaign views: LeadView and CampaignView naming, after the id,
//! the company whose webhooks they came from (`company_id`).
boost::json::object ProjectedLeadView(std::string_view company_id, const model::Lead& lead,
                                      const std::vector<model::Enrollment>& enrollments);
boost::json::object ProjectedCampaignView(std::string_view company_id, const model::Campaign& campaign,
                                          boost::json::object funnel);

//! Puts raw bytes (a stored body) into `view`: under `key` as a JSON string when they are
//! valid UTF-8, else, since JSON cannot hold them as a string, as standard base64 under
//! `<key>_base64` (`key` then absent).
void PutRawBytes(boost::json::object& view, std::string_view key, std::string_view bytes);

}  // namespace hookline::views
