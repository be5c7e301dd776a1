#pragma once

#include <string>
#include <vector>

#include "hookline/model/catalog.hpp"

namespace hookline::model {

//! The funnel stages of a channel and the history actions that count for each.
struct FunnelStage {
  std::string name;
  std::vector<std::string> actions;
};
const std::vector<FunnelStage>& FunnelStages(Channel channel);

}  // namespace hookline::model
