#include "processor/gen/generator.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "processor/gen/texts.h"

namespace ccstream::gen {
namespace {

// Contacts simulated at construction to measure the mean number of events per contact.
constexpr int kCalibrationContacts = 3000;

double Uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}
bool Chance(std::mt19937_64& rng, double p) { return Uniform(rng, 0.0, 1.0) < p; }
double Exponential(std::mt19937_64& rng, double mean) {
  return std::exponential_distribution<double>(1.0 / mean)(rng);
}
double Normal(std::mt19937_64& rng, double mean, double sd) {
  return std::normal_distribution<double>(mean, sd)(rng);
}
int64_t Ms(double seconds) { return static_cast<int64_t>(std::llround(seconds * 1000.0)); }

// Seconds between two turns of a conversation on `channel`.
double TurnGap(std::mt19937_64& rng, v1::Channel channel) {
  switch (channel) {
    case v1::VOICE:
      return Uniform(rng, 4, 20);
    case v1::CHAT:
      return Uniform(rng, 15, 90);
    case v1::SOCIAL:
      return Uniform(rng, 60, 1800);
    case v1::EMAIL:
      return Uniform(rng, 3600, 6 * 3600);
    default:
      return 10;
  }
}

// CSAT 1..5 given the customer's mood at the end of the contact.
int32_t Csat(std::mt19937_64& rng, Mood mood, bool resolved) {
  std::discrete_distribution<int> d;
  switch (mood) {
    case Mood::kSatisfied:
      d = std::discrete_distribution<int>({0, 0, 0.05, 0.35, 0.6});
      break;
    case Mood::kNeutral:
      d = std::discrete_distribution<int>({0.02, 0.08, 0.3, 0.42, 0.18});
      break;
    case Mood::kAnnoyed:
      d = std::discrete_distribution<int>({0.15, 0.45, 0.3, 0.1, 0});
      break;
    case Mood::kAngry:
      d = std::discrete_distribution<int>({0.7, 0.25, 0.05, 0, 0});
      break;
  }
  int32_t csat = d(rng) + 1;
  if (!resolved && csat > 1 && Chance(rng, 0.5)) --csat;
  return csat;
}

}  // namespace

std::vector<QueueSpec> DefaultQueues() {
  // name, weight, voice, chat, email, social, mean wait (s)
  return {
      {"billing", 0.30, 0.60, 0.32, 0.05, 0.03, 18.0},
      {"technical-support", 0.30, 0.55, 0.37, 0.04, 0.04, 25.0},
      {"sales", 0.18, 0.50, 0.45, 0.03, 0.02, 10.0},
      {"cancellations", 0.12, 0.75, 0.20, 0.04, 0.01, 30.0},
      {"complaints", 0.10, 0.50, 0.30, 0.15, 0.05, 35.0},
  };
}

Generator::Generator(GeneratorOptions options)
    : options_(std::move(options)),
      queues_(options_.queues.empty() ? DefaultQueues() : options_.queues),
      prefix_(absl::StrCat("gen-", options_.seed)) {
  // Guard against weights that no distribution can draw from: all zero means all equal.
  bool any_weight = false;
  for (QueueSpec& q : queues_) {
    any_weight |= q.weight > 0;
    if (q.voice_share <= 0 && q.chat_share <= 0 && q.email_share <= 0 && q.social_share <= 0) {
      q.voice_share = 1.0;
    }
  }
  if (!any_weight) {
    for (QueueSpec& q : queues_) q.weight = 1.0;
  }
  // Customers come from their own stream so that calibration does not change them.
  std::mt19937_64 people(options_.seed ^ 0xC0FFEE5EEDULL);
  std::vector<double> weights;
  for (const QueueSpec& q : queues_) weights.push_back(std::max(q.weight, 0.0));
  std::discrete_distribution<int> queue_pick(weights.begin(), weights.end());
  const int32_t n = std::max<int32_t>(options_.num_customers, 1);
  customers_.reserve(n);
  for (int32_t i = 0; i < n; ++i) {
    Customer c;
    c.id = absl::StrCat("cust-", i);
    c.escalating = Chance(people, options_.escalating_fraction);
    c.loudness_db = Normal(people, 62.0, 4.0);
    c.preferred_queue = queue_pick(people);
    customers_.push_back(std::move(c));
  }

  // Calibration: simulate contacts with a separate stream, count their events, then reset.
  rng_.seed(options_.seed ^ 0xCA11B4A7E0ULL);
  int64_t trial_events = 0;
  for (int i = 0; i < kCalibrationContacts; ++i) {
    const int32_t who = Pick(n, rng_);
    trial_events += StartContact(who, customers_[who].preferred_queue, 0);
  }
  const double per_contact =
      std::max(1.0, static_cast<double>(trial_events) / kCalibrationContacts);
  arrivals_per_s_ = std::max(options_.events_per_second, 1e-6) / per_contact;
  pending_ = {};
  callbacks_ = {};
  for (Customer& c : customers_) c.contacts = 0;
  contacts_ = 0;
  seq_ = 0;

  rng_.seed(options_.seed);
  end_time_ms_ = options_.duration_s > 0 ? options_.start_time_ms + Ms(options_.duration_s) : 0;
  next_arrival_ms_ = options_.start_time_ms;
}

bool Generator::IsEscalating(const std::string& customer_id) const {
  int64_t index = 0;
  if (customer_id.rfind("cust-", 0) != 0 || !absl::SimpleAtoi(customer_id.substr(5), &index) ||
      index < 0 || index >= static_cast<int64_t>(customers_.size())) {
    return false;
  }
  return customers_[index].escalating;
}

int64_t Generator::NextArrivalAfter(int64_t from_ms) {
  return from_ms + std::max<int64_t>(1, Ms(Exponential(rng_, 1.0 / arrivals_per_s_)));
}

void Generator::Push(v1::ContactEvent event) {
  const int64_t t = event.event_time_ms();
  pending_.push(Pending{t, seq_++, std::move(event)});
}

int64_t Generator::StartContact(int32_t who, int32_t queue_index, int64_t t0) {
  Customer& customer = customers_[who];
  ++customer.contacts;
  const int contact_number = customer.contacts;
  const QueueSpec* queue = &queues_[queue_index];
  const std::string contact_id = absl::StrCat(prefix_, "-c", contacts_++);
  int64_t count = 0;

  std::discrete_distribution<int> medium(
      {std::max(0.0, queue->voice_share), std::max(0.0, queue->chat_share),
       std::max(0.0, queue->email_share), std::max(0.0, queue->social_share)});
  static constexpr v1::Channel kMedia[] = {v1::VOICE, v1::CHAT, v1::EMAIL, v1::SOCIAL};
  const v1::Channel channel = kMedia[medium(rng_)];
  const bool voice = channel == v1::VOICE;
  const bool live = channel == v1::VOICE || channel == v1::CHAT;

  std::string agent;
  auto make = [&](int64_t time_ms) {
    v1::ContactEvent e;
    e.set_contact_id(contact_id);
    e.set_customer_id(customer.id);
    e.set_channel(channel);
    e.set_queue(queue->name);
    e.set_agent_id(agent);
    e.set_event_time_ms(time_ms);
    return e;
  };
  auto emit = [&](v1::ContactEvent e) {
    Push(std::move(e));
    ++count;
  };

  // Queue, then either an abandon or an answer.
  int64_t t = t0;
  {
    v1::ContactEvent e = make(t);
    e.mutable_queued()->set_priority(customer.escalating && contact_number > 1 ? 1 : 0);
    emit(std::move(e));
  }
  double wait_s = Exponential(rng_, queue->mean_wait_s);
  double patience_s = Exponential(rng_, voice ? 150.0 : 200.0);
  if (channel == v1::EMAIL) {
    wait_s = Exponential(rng_, queue->mean_wait_s * 200.0);
    patience_s = 1e12;
  } else if (channel == v1::SOCIAL) {
    wait_s = Exponential(rng_, queue->mean_wait_s * 10.0);
    patience_s = Exponential(rng_, 3600.0);
  }
  if (patience_s < wait_s) {
    v1::ContactEvent e = make(t + Ms(patience_s));
    e.mutable_abandoned();
    emit(std::move(e));
    // Some callers who gave up try again within the hour.
    if (Chance(rng_, customer.escalating ? options_.repeat_contact_probability : 0.25)) {
      callbacks_.push(
          Callback{t + Ms(patience_s + Uniform(rng_, 300, 3600)), seq_++, who, queue_index});
    }
    return count;
  }
  t += Ms(wait_s);
  const int32_t agents = std::max<int32_t>(options_.agents_per_queue, 1);
  auto agent_for = [&](const QueueSpec& q) {
    return absl::StrCat("agent-", q.name, "-", Pick(agents, rng_));
  };
  agent = agent_for(*queue);
  {
    v1::ContactEvent e = make(t);
    e.mutable_answered();
    emit(std::move(e));
  }

  // The customer's mood for this contact.
  Mood mood = Mood::kAnnoyed;
  if (!customer.escalating) {
    static constexpr Mood kMoods[] = {Mood::kSatisfied, Mood::kNeutral, Mood::kAnnoyed,
                                      Mood::kAngry};
    mood = kMoods[std::discrete_distribution<int>({0.25, 0.5, 0.2, 0.05})(rng_)];
  }

  // The shape of the conversation.
  int transfers = 0;
  if (live && Chance(rng_, customer.escalating ? 0.3 : 0.1)) {
    transfers = 1;
    while (transfers < 3 && Chance(rng_, 0.3)) ++transfers;
  }
  int exchanges = live ? 2 + Pick(5, rng_) : 1 + Pick(channel == v1::SOCIAL ? 3 : 2, rng_);
  exchanges = std::max(exchanges, transfers + 2);
  if (customer.escalating) exchanges = std::max(exchanges, 3);
  const bool hold = voice ? Chance(rng_, 0.2) : channel == v1::CHAT && Chance(rng_, 0.1);
  const int hold_at = Pick(exchanges, rng_);
  const int manager_at = customer.escalating ? 1 + Pick(exchanges - 1, rng_) : -1;
  const bool agent_first = live;

  v1::Speaker last_speaker = v1::SPEAKER_UNSPECIFIED;
  auto agent_turn = [&](AgentMove move) {
    t += Ms(TurnGap(rng_, channel));
    v1::ContactEvent e = make(t);
    v1::Turn* turn = e.mutable_turn();
    turn->set_speaker(v1::AGENT);
    turn->set_text(AgentText(move, queue->name, rng_));
    last_speaker = v1::AGENT;
    if (voice) {
      turn->set_loudness_db(static_cast<float>(Normal(rng_, 60.0, 1.0)));
      turn->set_interruption(Chance(rng_, 0.02));
    }
    emit(std::move(e));
  };
  auto customer_turn = [&](const std::string& text, Mood turn_mood) {
    t += Ms(TurnGap(rng_, channel));
    v1::ContactEvent e = make(t);
    v1::Turn* turn = e.mutable_turn();
    turn->set_speaker(v1::CUSTOMER);
    turn->set_text(text);
    last_speaker = v1::CUSTOMER;
    if (voice) {
      double db = customer.loudness_db + Normal(rng_, 0.0, 1.5);
      if (turn_mood == Mood::kAngry) db += Uniform(rng_, 7.0, 12.0);
      if (turn_mood == Mood::kAnnoyed) db += Uniform(rng_, 1.0, 4.0);
      turn->set_loudness_db(static_cast<float>(db));
      const double p = turn_mood == Mood::kAngry ? 0.35 : turn_mood == Mood::kAnnoyed ? 0.1 : 0.03;
      turn->set_interruption(Chance(rng_, p));
    }
    emit(std::move(e));
  };
  // Two lines in one turn when they fit in 200 characters, else the second alone.
  auto join = [](const std::string& a, const std::string& b) {
    return a.size() + 1 + b.size() <= 200 ? absl::StrCat(a, " ", b) : b;
  };

  bool asked_manager = false;
  bool greet = agent_first;
  Mood last_mood = mood;
  for (int i = 0; i < exchanges; ++i) {
    if (greet) {
      agent_turn(AgentMove::kGreeting);
      greet = false;
    } else if (agent_first && last_speaker != v1::AGENT) {
      agent_turn(last_mood == Mood::kAngry || last_mood == Mood::kAnnoyed ? AgentMove::kEmpathy
                                                                          : AgentMove::kProbe);
    }

    // What the customer says.
    Mood turn_mood = mood;
    std::string text;
    if (customer.escalating) {
      turn_mood = i == 0 ? Mood::kAnnoyed : Mood::kAngry;
      text = RandomCustomerText(turn_mood, queue->name, rng_);
      if (i == 0 && contact_number >= 2) {
        text = join(text, EscalationText(Escalation::kRepeat, queue->name, contact_number, rng_));
      } else if (i == manager_at) {
        text = join(text, EscalationText(Escalation::kManager, queue->name, contact_number, rng_));
        asked_manager = true;
      } else if (i > 0 && Chance(rng_, 0.5)) {
        const Escalation threat = Chance(rng_, 0.6) ? Escalation::kCancel : Escalation::kRegulator;
        text = join(text, EscalationText(threat, queue->name, contact_number, rng_));
      }
    } else {
      if (i == exchanges - 1 && mood == Mood::kNeutral && Chance(rng_, 0.5)) {
        turn_mood = Mood::kSatisfied;
      }
      text = RandomCustomerText(turn_mood, queue->name, rng_);
    }
    customer_turn(text, turn_mood);
    last_mood = turn_mood;

    // The agent's answer.
    if (i == manager_at) {
      agent_turn(AgentMove::kEscalate);
      if (Chance(rng_, 0.5)) {
        t += Ms(Uniform(rng_, 1, 10));
        v1::ContactEvent e = make(t);
        v1::CaseAction* action = e.mutable_case_action();
        action->set_kind(v1::CaseAction::FLAG_COMPLAINT);
        action->set_actor(agent);
        action->set_category(queue->name);
        action->set_note("Customer asked for a manager and is threatening to leave.");
        emit(std::move(e));
      }
    } else {
      if (!agent_first) {
        agent_turn(i == exchanges - 1 ? AgentMove::kClosing : AgentMove::kExplain);
      }
      if (!customer.escalating && turn_mood == Mood::kAngry && Chance(rng_, 0.1)) {
        t += Ms(Uniform(rng_, 1, 10));
        v1::ContactEvent e = make(t);
        v1::CaseAction* action = e.mutable_case_action();
        action->set_kind(v1::CaseAction::FLAG_COMPLAINT);
        action->set_actor(agent);
        action->set_category(queue->name);
        action->set_note("Customer very unhappy with the service.");
        emit(std::move(e));
      }
    }

    if (hold && i == hold_at) {
      agent_turn(AgentMove::kHoldRequest);
      t += Ms(Uniform(rng_, 1, 5));
      v1::ContactEvent started = make(t);
      started.mutable_hold_started();
      emit(std::move(started));
      t += Ms(5.0 + Exponential(rng_, 70.0));
      v1::ContactEvent ended = make(t);
      ended.mutable_hold_ended();
      emit(std::move(ended));
      agent_turn(AgentMove::kBackFromHold);
    }
    if (i < transfers) {
      agent_turn(AgentMove::kTransfer);
      // Escalating customers go to complaints when there is such a queue; others anywhere else.
      int32_t target = Pick(static_cast<int>(queues_.size()), rng_);
      if (customer.escalating) {
        for (size_t q = 0; q < queues_.size(); ++q) {
          if (queues_[q].name == "complaints") target = static_cast<int32_t>(q);
        }
      }
      if (&queues_[target] == queue && queues_.size() > 1) {
        target = (target + 1) % static_cast<int32_t>(queues_.size());
      }
      t += Ms(Uniform(rng_, 2, 8));
      const std::string new_agent = agent_for(queues_[target]);
      v1::ContactEvent e = make(t);
      e.mutable_transferred()->set_to_queue(queues_[target].name);
      e.mutable_transferred()->set_to_agent_id(new_agent);
      emit(std::move(e));
      queue = &queues_[target];
      agent = new_agent;
      t += Ms(Uniform(rng_, 10, 60));
      greet = agent_first;
    }
  }
  if (agent_first) agent_turn(AgentMove::kClosing);

  // The end of the contact, its survey, and what an escalating customer does next.
  static constexpr double kResolved[] = {0.92, 0.78, 0.45, 0.15};  // by Mood
  const bool resolved = Chance(rng_, kResolved[static_cast<int>(last_mood)]);
  t += Ms(Uniform(rng_, 2, 30));
  {
    v1::ContactEvent e = make(t);
    v1::ContactEnded* ended = e.mutable_ended();
    ended->set_resolved(resolved);
    ended->set_disposition(asked_manager && !resolved ? "escalated-to-manager"
                                                      : Disposition(queue->name, resolved, rng_));
    emit(std::move(e));
  }
  const int64_t ended_ms = t;
  if (Chance(rng_, options_.survey_probability)) {
    v1::ContactEvent e = make(ended_ms + Ms(Uniform(rng_, 30, 600)));
    e.mutable_survey()->set_csat(Csat(rng_, last_mood, resolved));
    emit(std::move(e));
  }
  if (Chance(rng_, options_.erasure_probability)) {
    v1::ContactEvent e = make(ended_ms + Ms(Uniform(rng_, 60, 3600)));
    e.mutable_erasure_request()->set_requested_by(agent);
    emit(std::move(e));
  }
  const bool upset = last_mood == Mood::kAngry || last_mood == Mood::kAnnoyed;
  if ((customer.escalating && Chance(rng_, options_.complaint_email_probability)) ||
      (!customer.escalating && upset && Chance(rng_, 0.02))) {
    const QueueSpec* target = queue;
    for (const QueueSpec& q : queues_) {
      if (q.name == "complaints") target = &q;
    }
    v1::ContactEvent e;
    e.set_contact_id(absl::StrCat(prefix_, "-c", contacts_++));
    e.set_customer_id(customer.id);
    e.set_channel(v1::EMAIL);
    e.set_queue(target->name);
    e.set_event_time_ms(ended_ms + Ms(Uniform(rng_, 600, 24 * 3600)));
    v1::ComplaintLodged* lodged = e.mutable_complaint_lodged();
    lodged->set_category(queue->name);
    lodged->set_issue(ComplaintIssue(queue->name, rng_));
    lodged->set_company("Acme Telecom");
    emit(std::move(e));
  }
  if (customer.escalating && Chance(rng_, options_.repeat_contact_probability)) {
    const double lo = std::max(0.0, options_.repeat_delay_min_s);
    const double hi = std::max(lo, options_.repeat_delay_max_s);
    callbacks_.push(Callback{ended_ms + Ms(Uniform(rng_, lo, hi)), seq_++, who, queue_index});
  }
  return count;
}

std::optional<v1::ContactEvent> Generator::Next() {
  if (done_) return std::nullopt;
  if (options_.max_events > 0 && emitted_ >= options_.max_events) {
    done_ = true;
    return std::nullopt;
  }
  // Start every contact that arrives before the earliest scheduled event, so that output is in
  // time order (a contact's events never precede its arrival).
  while (true) {
    int64_t next_start = next_arrival_ms_;
    const bool callback_first = !callbacks_.empty() && callbacks_.top().time_ms < next_start;
    if (callback_first) next_start = callbacks_.top().time_ms;
    if (end_time_ms_ > 0 && next_start >= end_time_ms_) break;
    if (!pending_.empty() && pending_.top().time_ms <= next_start) break;
    if (callback_first) {
      const Callback cb = callbacks_.top();
      callbacks_.pop();
      StartContact(cb.customer, cb.queue, cb.time_ms);
    } else {
      const int32_t who = Pick(static_cast<int>(customers_.size()), rng_);
      int32_t queue = customers_[who].preferred_queue;
      if (Chance(rng_, 0.4)) {
        std::vector<double> weights;
        for (const QueueSpec& q : queues_) weights.push_back(std::max(q.weight, 0.0));
        queue = std::discrete_distribution<int>(weights.begin(), weights.end())(rng_);
      }
      StartContact(who, queue, next_arrival_ms_);
      next_arrival_ms_ = NextArrivalAfter(next_arrival_ms_);
    }
  }
  if (pending_.empty()) {
    done_ = true;
    return std::nullopt;
  }
  Pending top = pending_.top();
  pending_.pop();
  if (end_time_ms_ > 0 && top.time_ms >= end_time_ms_) {
    done_ = true;
    return std::nullopt;
  }
  top.event.set_event_id(absl::StrCat(prefix_, "-", emitted_++));
  return std::move(top.event);
}

}  // namespace ccstream::gen
