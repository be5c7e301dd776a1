#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hookline/model/catalog.hpp"
#include "hookline/util/time.hpp"

namespace hookline::model {

//! A connected account that acts: a LinkedIn seat or a mailbox (not a person).
struct Sender {
  std::string id;
  std::string name;
  std::optional<std::string> email = std::nullopt;
};

struct Campaign {
  std::string id;
  std::string name;
  Channel campaign_type = Channel::kLinkedin;
  std::int64_t total_leads = 0;               //!< leads enrolled
  std::int64_t complete_end_of_sequence = 0;  //!< leads that finished the sequence
};

//! A lead's profile. Every field but `id` and `name` may be unknown (null).
struct Lead {
  std::string id;
  std::string name;
  std::optional<std::string> profile_url = std::nullopt;
  std::optional<std::string> email = std::nullopt;
  std::optional<std::string> company_name = std::nullopt;
  std::optional<std::string> location = std::nullopt;
  std::optional<std::string> job_title = std::nullopt;
  std::optional<std::string> profile_image = std::nullopt;
};

//! One entry of a lead's history in a campaign.
struct Activity {
  std::string action;
  Millis action_time = 0;
  bool operator==(const Activity&) const = default;
};

//! A lead's place in one campaign.
struct Enrollment {
  std::string campaign_id;
  std::string lead_id;
  std::optional<std::string> latest_status;
  bool completed = false;
  std::vector<Activity> activity;  //!< oldest first
};

}  // namespace hookline::model
