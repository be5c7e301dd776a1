#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hookline/http/client.hpp"

namespace hookline::testing {

//! Answers with what `respond` says; nullopt keeps the request in flight until Release.
class ScriptedSender final : public http::HttpSender {
 public:
  std::function<std::optional<http::OutboundResult>(const http::OutboundRequest&)> respond =
      [](const auto&) { http::OutboundResult r; r.status = 200; return r; };
  std::vector<http::OutboundRequest> sent;

  void Start(http::OutboundRequest request) override {
    auto result = respond(request);
    if (result) {
      result->tag = request.tag;
      ready_.push_back(*result);
    } else {
      held_.push_back(request.tag);
    }
    sent.push_back(std::move(request));
  }
  std::vector<http::OutboundResult> Poll(std::chrono::milliseconds) override {
    std::vector<http::OutboundResult> out(ready_.begin(), ready_.end());
    ready_.clear();
    return out;
  }
  std::size_t InFlight() const override { return ready_.size() + held_.size(); }
  void Wake() override {}
  //! Answers every held request with `status`.
  void Release(int status) {
    for (auto tag : held_) {
      http::OutboundResult r;
      r.tag = tag;
      r.status = status;
      ready_.push_back(r);
    }
    held_.clear();
  }
  size_t SentTo(const std::string& url) const {
    return static_cast<size_t>(std::count_if(sent.begin(), sent.end(), [&](const auto& r) { return r.url == url; }));
  }

 private:
  std::deque<http::OutboundResult> ready_;
  std::vector<std::uint64_t> held_;
};

}  // namespace hookline::testing
