#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <string>
#include <vector>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <tuple>

#include "hookline/store/store.hpp"

namespace hookline::receiver {

//! The projection writes of a batch of accepted webhooks, reduced in memory before they
//! reach the store: of each value (lead, campaign, sender, status in a campaign) only the
//! greatest version is kept, timelines and replies are sets. Every value is keyed by the
//! payload's company_id as well ("" when it has none, or it is not a string): two companies'
//! leads, campaigns, senders and replies never merge. The store then keeps a value
//! only when its version beats the stored one, and a lead's timeline in a campaign is read,
//! merged and written once per batch, so applying reduced batches gives the same
//! projections as applying webhook by webhook, in any order. Not thread-safe.
class ProjectionBatch {
 public:
  //! Parses `record`; unknown events and bodies that do not parse add nothing.
  void Add(const store::ReceivedRecord& record);
  //! Writes the reduced batch, each lead's campaigns in key order (the table's), for locality.
  void Apply(store::StoreTx& tx) const;

 private:
  template <typename T>
  struct Versioned {
    T value;
    std::string version;
  };
  //! A value's key: company_id, then its id.
  using Key = std::pair<std::string, std::string>;
  //! What the batch says about one lead in one campaign.
  struct EnrollmentChange {
    std::string company_id, lead_id, campaign_id;
    Versioned<std::optional<std::string>> status;  //!< the newest; version "" until one is seen
    std::vector<model::Activity> entries;          //!< as sent; merged (and deduplicated) at Apply
  };
  template <typename T>
  static void KeepNewest(std::map<Key, Versioned<T>>& values, const Key& key, Versioned<T> candidate);

  std::map<Key, Versioned<model::Lead>> leads_;
  std::map<Key, Versioned<model::Campaign>> campaigns_;
  std::map<Key, Versioned<model::Sender>> senders_;
  // By company, lead and campaign: a tuple, since ids may hold any character (a joined
  // string key let two companies' enrollments collide).
  std::map<std::tuple<std::string, std::string, std::string>, EnrollmentChange> enrollments_;
  std::vector<store::ReplyRecord> replies_;
};

//! Applies one accepted webhook to the projections (leads, statuses, timelines, campaigns,
//! senders, replies). Idempotent and independent of arrival order: each value is written
//! only by a newer event (timestamp, then a hash of the content as a tiebreak), timelines
//! and replies are sets. Unknown events and bodies that do not parse change nothing.
void ProjectWebhook(store::StoreTx& tx, const store::ReceivedRecord& record);

//! Keeps the projections caught up with the raw log, from a checkpoint stored with them (so
//! it resumes after a restart). Thread-safe.
class Projector {
 public:
  //! Projects at most `batch` webhooks per transaction, and stops a batch at the webhook
  //! whose body brings the batch's bodies to `batch_bytes` (so its memory is bounded).
  explicit Projector(store::Store& store, int batch = 2000, std::size_t batch_bytes = 8 << 20);
  ~Projector();
  void Start();
  void Stop();
  //! New webhooks were stored: project them now rather than at the next poll.
  void Notify();
  //! Projects everything stored so far, on the calling thread. Returns how many webhooks.
  int CatchUp();

 private:
  store::Store& store_;
  int batch_;
  std::size_t batch_bytes_;
  std::mutex catch_up_mu_;  // one catch-up at a time: it owns what follows
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hookline::receiver
