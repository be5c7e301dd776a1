#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "hookline/provider/activity_recorder.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/crypto.hpp"
#include "hookline/util/ids.hpp"

namespace hookline::testing {

//! A clock tests move by hand.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Millis start = 1'774'347'300'000) : now_(start) {}
  Millis Now() const override { return now_.load(); }
  void Advance(Millis by) { now_ += by; }

 private:
  std::atomic<Millis> now_;
};

//! A fresh SQLite database in its own temp directory, removed afterwards.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() / ("hookline-test-" + crypto::HexEncode(crypto::RandomBytes(6)));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline constexpr char kCompany[] = "67787093-cc3a-44ca-8a12-5bf1afa3194c";

//! Company, LinkedIn campaign, lead (enrolled) and sender, as in the reference.
inline void SeedLinkedin(store::Store& store, Millis now) {
  store.Write([&](store::StoreTx& tx) {
    tx.InsertCompany({kCompany, "Outboundry Demo", now}, crypto::Sha256("key"));
    tx.UpsertCampaign(kCompany, {"cccccccc-1111-2222-3333-cccccccccccc", "Q1 LinkedIn Outreach",
                                 model::Channel::kLinkedin, 0, 0});
    tx.UpsertLead(kCompany, {"11111111-aaaa-bbbb-cccc-111111111111", "Rahul Sharma",
                             "https://linkedin.com/in/rahulsharma", "[email protected]", "Infosys",
                             "Bangalore", "Senior Software Engineer",
                             "https://media.licdn.com/dms/image/sample1.jpg"});
    tx.UpsertSender(kCompany, {"aaaaaaaa-1111-2222-3333-aaaaaaaaaaaa", "Ravi Mehta", "[email protected]"});
    tx.Enroll(kCompany, "cccccccc-1111-2222-3333-cccccccccccc", "11111111-aaaa-bbbb-cccc-111111111111", now);
    return true;
  });
}

inline provider::ActivityRequest InviteSent(std::optional<Millis> at = std::nullopt) {
  provider::ActivityRequest r;
  r.spec = model::FindEvent("invite-sent");
  r.campaign_id = "cccccccc-1111-2222-3333-cccccccccccc";
  r.lead_id = "11111111-aaaa-bbbb-cccc-111111111111";
  r.sender_id = "aaaaaaaa-1111-2222-3333-aaaaaaaaaaaa";
  r.occurred_at = at;
  return r;
}

}  // namespace hookline::testing
