#include "hookline/model/funnel.hpp"

namespace hookline::model {

const std::vector<FunnelStage>& FunnelStages(Channel channel) {
  static const auto* linkedin = new std::vector<FunnelStage>{
      {"invited", {"Send connection request"}},
      {"accepted", {"Invite Accepted"}},
      {"messaged", {"Send Message", "InMail"}},
      {"replied", {"Message Replied"}},
  };
  static const auto* email = new std::vector<FunnelStage>{
      {"sent", {"Send Email"}},
      {"opened", {"Email Opened"}},
      {"clicked", {"Link Clicked"}},
      {"replied", {"Mail Replied"}},
  };
  return channel == Channel::kLinkedin ? *linkedin : *email;
}

}  // namespace hookline::model
