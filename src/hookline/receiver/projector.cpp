#include "hookline/receiver/projector.hpp"

#include <algorithm>
#include <cstddef>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hookline/model/codec.hpp"
#include "hookline/util/crypto.hpp"
#include "hookline/util/thread_name.hpp"

namespace hookline::receiver {

namespace json = boost::json;

namespace {

std::optional<std::string> Opt(const json::object& o, std::string_view key) {
  auto v = model::StringField(o, key);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

// Newer events win; for two events of the same millisecond the content decides, so the
// result is the same whatever order they arrive in.
std::string Version(Millis timestamp, const json::value& content) {
  return fmt::format("{:015d}|{}", std::max<Millis>(timestamp, 0),
                     crypto::Sha256Hex(json::serialize(content)));
}

}  // namespace

template <typename T>
void ProjectionBatch::KeepNewest(std::map<Key, Versioned<T>>& values, const Key& key, Versioned<T> candidate) {
  auto [it, inserted] = values.try_emplace(key, candidate);
  if (!inserted && candidate.version > it->second.version) it->second = std::move(candidate);
}

void ProjectionBatch::Add(const store::ReceivedRecord& record) {
  // The parsed body lives in an arena for this call: every value kept is copied out of it,
  // and Boost.JSON frees a document whose storage deallocates trivially at once instead of
  // node by node.
  alignas(std::max_align_t) unsigned char arena_buffer[16384];
  json::monotonic_resource arena(arena_buffer, sizeof arena_buffer);
  model::ParseFailure failure;
  auto event = model::ParseWebhook(record.body, &failure, &arena);
  if (!event || event->type == model::EventType::kUnknown) return;
  const model::EventSpec& spec = model::SpecOf(event->type);
  const Millis ts = event->timestamp.value_or(0);
  const std::string company = event->company_id.value_or("");

  const json::object* lead = event->LeadObject();
  const json::object* campaign = event->CampaignObject();
  const json::object* sender = event->SenderObject();
  const auto lead_id = lead ? Opt(*lead, "id") : std::nullopt;
  const auto campaign_id = campaign ? Opt(*campaign, "id") : std::nullopt;

  if (lead_id) {
    model::Lead profile{*lead_id, Opt(*lead, "name").value_or(""), Opt(*lead, "profile_url"),
                        Opt(*lead, "email"), Opt(*lead, "company_name"), Opt(*lead, "location"),
                        Opt(*lead, "job_title"), Opt(*lead, "profile_image")};
    json::object content{{"name", profile.name}};
    for (const char* k : {"profile_url", "email", "company_name", "location", "job_title", "profile_image"}) {
      if (auto v = Opt(*lead, k)) content[k] = *v;
    }
    KeepNewest(leads_, {company, profile.id}, {profile, Version(ts, content)});
  }
  if (campaign_id) {
    model::Campaign c;
    c.id = *campaign_id;
    c.name = Opt(*campaign, "name").value_or("");
    auto type = campaign ? model::StringField(*campaign, "campaign_type") : std::nullopt;
    auto channel = type ? model::ParseChannel(*type) : std::nullopt;
    c.campaign_type = channel.value_or(spec.channel);
    c.total_leads = model::IntField(*campaign, "total_leads").value_or(0);
    c.complete_end_of_sequence = model::IntField(*campaign, "complete_end_of_sequence").value_or(0);
    const json::object content{{"name", c.name}, {"total_leads", c.total_leads},
                               {"complete_end_of_sequence", c.complete_end_of_sequence}};
    KeepNewest(campaigns_, {company, c.id}, {c, Version(ts, content)});
  }
  if (sender) {
    if (auto sender_id = Opt(*sender, "id")) {
      model::Sender sn{*sender_id, Opt(*sender, "name").value_or(""), Opt(*sender, "email")};
      KeepNewest(senders_, {company, sn.id},
                 {sn, Version(ts, json::object{{"name", sn.name}, {"email", sn.email ? json::value(*sn.email) : nullptr}})});
    }
  }
  if (lead_id && campaign_id) {
    auto [it, inserted] = enrollments_.try_emplace(std::make_tuple(company, *lead_id, *campaign_id));
    EnrollmentChange& enrollment = it->second;
    if (inserted) {
      enrollment.company_id = company;
      enrollment.lead_id = *lead_id;
      enrollment.campaign_id = *campaign_id;
    }
    const auto status = Opt(*lead, "latest_status");
    std::string status_version = Version(ts, status ? json::value(*status) : json::value(nullptr));
    if (status_version > enrollment.status.version) enrollment.status = {status, std::move(status_version)};
    // The timeline is the union of every history seen.
    bool own_action_seen = false;
    if (const auto* history = model::ArrayField(*lead, "activity")) {
      for (const auto& item : *history) {
        const auto* entry = item.if_object();
        if (!entry) continue;
        auto action = model::StringField(*entry, "action");
        auto at_text = model::StringField(*entry, "action_time");
        auto at = at_text ? ParseIso8601(*at_text) : std::nullopt;
        if (!action || !at) continue;
        enrollment.entries.push_back({std::string(*action), *at});
        own_action_seen |= *action == spec.action && *at == ts;
      }
    }
    if (!own_action_seen && event->timestamp) {
      // A payload without its history still says that this action happened.
      enrollment.entries.push_back({std::string(spec.action), ts});
    }
    const char* text_field = nullptr;
    if (event->type == model::EventType::kMessageReplied || event->type == model::EventType::kInmailReplied) {
      text_field = "replay_message";
    } else if (event->type == model::EventType::kEmailReplied) {
      text_field = "message";
    }
    if (text_field && event->timestamp) {
      const json::object* action_data = event->ActionData();
      store::ReplyRecord reply;
      reply.lead_id = *lead_id;
      reply.campaign_id = *campaign_id;
      reply.replied_at = ts;
      reply.channel = std::string(model::ChannelName(spec.channel));
      reply.event = event->event;
      reply.text = action_data ? Opt(*action_data, text_field) : std::nullopt;
      reply.received_id = record.id;
      reply.company_id = company;
      replies_.push_back(std::move(reply));
    }
  }
}

void ProjectionBatch::Apply(store::StoreTx& tx) const {
  for (const auto& [key, lead] : leads_) tx.PutProjectedLead(key.first, lead.value, lead.version);
  for (const auto& [key, campaign] : campaigns_) {
    tx.PutProjectedCampaign(key.first, campaign.value, /*type_known=*/true, campaign.version);
  }
  for (const auto& [key, sender] : senders_) tx.PutProjectedSender(key.first, sender.value, sender.version);
  for (const auto& [key, change] : enrollments_) {
    // Read, merge and write inside the job: a group commit may run it twice (Store::Write),
    // and each run must merge with what is stored then.
    std::optional<store::ProjectedEnrollment> stored;
    try {
      stored = tx.GetProjectedEnrollment(change.company_id, change.lead_id, change.campaign_id);
    } catch (const store::UnreadableValueError& e) {
      // One damaged row must not stop every later webhook from being projected: the row
      // starts over from what this batch knows, and a replay rebuilds its whole history.
      spdlog::error(
          "lead {} in campaign {} of company '{}': the stored timeline cannot be read ({}); it is rewritten "
          "from this webhook on. POST /v1/replay {{\"to\": \"projections\"}} rebuilds it from the raw log",
          change.lead_id, change.campaign_id, change.company_id, e.what());
    }
    bool changed = !stored.has_value();
    store::ProjectedEnrollment next = stored ? std::move(*stored) : store::ProjectedEnrollment{};
    if (change.status.version > next.version) {
      next.latest_status = change.status.value;
      next.version = change.status.version;
      changed = true;
    }
    const std::size_t before = next.timeline.size();
    for (const auto& activity : change.entries) {
      const auto at = std::lower_bound(next.timeline.begin(), next.timeline.end(), activity,
                                     store::EarlierInTimeline);
      if (at == next.timeline.end() || *at != activity) next.timeline.insert(at, activity);
    }
    changed |= next.timeline.size() != before;
    if (changed) tx.PutProjectedEnrollment(change.company_id, change.lead_id, change.campaign_id, next);
  }
  for (const auto& reply : replies_) tx.AddReply(reply);
}

void ProjectWebhook(store::StoreTx& tx, const store::ReceivedRecord& record) {
  ProjectionBatch batch;
  batch.Add(record);
  batch.Apply(tx);
}

Projector::Projector(store::Store& store, int batch, std::size_t batch_bytes)
    : store_(store), batch_(batch), batch_bytes_(batch_bytes) {}

Projector::~Projector() { Stop(); }

void Projector::Start() {
  thread_ = std::thread([this] {
    NameThisThread("hl-projector");
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds{500}, [&] { return pending_ || stopping_; });
        if (stopping_) return;
        pending_ = false;
      }
      try {
        CatchUp();
      } catch (const std::exception& e) {
        spdlog::error("projector: {}", e.what());
      }
    }
  });
}

void Projector::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Projector::Notify() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

int Projector::CatchUp() {
  std::lock_guard lock(catch_up_mu_);
  int total = 0;
  for (;;) {
    // Read and reduce outside the writer; the writer only runs the reduced writes.
    std::int64_t from = 0;
    std::vector<store::ReceivedRecord> records;
    store_.Read([&](store::StoreTx& tx) {
      from = tx.ProjectionCheckpoint();
      records = tx.AcceptedAfter(from, batch_, batch_bytes_);
    });
    if (records.empty()) return total;
    ProjectionBatch batch;
    std::size_t bytes = 0;
    for (const auto& record : records) {
      batch.Add(record);
      bytes += record.body.size();
    }
    const std::int64_t through = records.back().seq;
    // The checkpoint and the projections it covers change in one transaction, and only if
    // nothing (a rebuild) moved the checkpoint since it was read.
    const bool applied = store_.Write([&](store::StoreTx& tx) {
      if (tx.ProjectionCheckpoint() != from) return false;
      batch.Apply(tx);
      tx.SetProjectionCheckpoint(through);
      return true;
    });
    if (!applied) continue;
    total += static_cast<int>(records.size());
    if (static_cast<int>(records.size()) < batch_ && bytes < batch_bytes_) return total;
  }
}

}  // namespace hookline::receiver
