#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "hookline/store/store.hpp"

namespace hookline::receiver {

//! Applies one accepted webhook to the projections (leads, statuses, timelines, campaigns,
//! senders, replies). Idempotent and independent of arrival order: each value is written
//! only by a newer event (timestamp, then a hash of the content as a tiebreak), timelines
//! and replies are sets. Unknown events and bodies that do not parse change nothing.
void ProjectWebhook(store::StoreTx& tx, const store::ReceivedRecord& record);

//! Keeps the projections caught up with the raw log, from a checkpoint stored with them (so
//! it resumes after a restart). Thread-safe.
class Projector {
 public:
  explicit Projector(store::Store& store, int batch = 500);
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
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hookline::receiver
