#include "hookline/receiver/projector.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hookline/model/codec.hpp"
#include "hookline/util/crypto.hpp"

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

void ProjectWebhook(store::StoreTx& tx, const store::ReceivedRecord& record) {
  model::ParseFailure failure;
  auto event = model::ParseWebhook(record.body, &failure);
  if (!event || event->type == model::EventType::kUnknown) return;
  const model::EventSpec& spec = model::SpecOf(event->type);
  const Millis ts = event->timestamp.value_or(0);

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
    tx.PutProjectedLead(profile, Version(ts, content));
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
    tx.PutProjectedCampaign(c, /*type_known=*/true, Version(ts, content));
  }
  if (sender) {
    if (auto sender_id = Opt(*sender, "id")) {
      model::Sender sn{*sender_id, Opt(*sender, "name").value_or(""), Opt(*sender, "email")};
      tx.PutProjectedSender(sn, Version(ts, json::object{{"name", sn.name}, {"email", sn.email ? json::value(*sn.email) : nullptr}}));
    }
  }
  if (lead_id && campaign_id) {
    const auto status = Opt(*lead, "latest_status");
    tx.PutLeadCampaignStatus(*lead_id, *campaign_id, status,
                             Version(ts, status ? json::value(*status) : json::value(nullptr)));
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
        tx.AddProjectedActivity(*lead_id, *campaign_id, {std::string(*action), *at});
        own_action_seen |= *action == spec.action && *at == ts;
      }
    }
    if (!own_action_seen && event->timestamp) {
      // A payload without its history still says that this action happened.
      tx.AddProjectedActivity(*lead_id, *campaign_id, {std::string(spec.action), ts});
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
      tx.AddReply(reply);
    }
  }
}

Projector::Projector(store::Store& store, int batch) : store_(store), batch_(batch) {}

Projector::~Projector() { Stop(); }

void Projector::Start() {
  thread_ = std::thread([this] {
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
  int total = 0;
  for (;;) {
    int applied = 0;
    // Reading the batch inside the write job keeps the checkpoint and the projections it
    // covers in one transaction.
    store_.Write([&](store::StoreTx& tx) {
      const std::int64_t from = tx.ProjectionCheckpoint();
      auto batch = tx.AcceptedAfter(from, batch_);
      for (const auto& record : batch) ProjectWebhook(tx, record);
      if (!batch.empty()) tx.SetProjectionCheckpoint(batch.back().seq);
      applied = static_cast<int>(batch.size());
      return true;
    });
    total += applied;
    if (applied < batch_) return total;
  }
}

}  // namespace hookline::receiver
