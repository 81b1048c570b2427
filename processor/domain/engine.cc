#include "processor/domain/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "processor/domain/engine_internal.h"
#include "processor/domain/lifecycle.h"
#include "processor/domain/sla/clock.h"

namespace ccstream::domain {
namespace {

#define CC_RETURN_IF_ERROR(expr)       \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

using google::protobuf::RepeatedPtrField;

constexpr std::string_view kSystemActor = "ccstream";
// Scores are sums of configured weights; compare with a little slack so that 0.4 + 0.2 reaches
// a threshold of 0.6.
constexpr double kScoreSlack = 1e-9;

// When a live clock with this deadline reaches `fraction` of its limit.
int64_t LiveStepDue(const sla::MilestoneSpec& spec, int64_t deadline_ms, double fraction) {
  return deadline_ms - spec.target_ms +
         static_cast<int64_t>(std::llround(fraction * static_cast<double>(spec.target_ms)));
}

std::string FractionText(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6f", fraction);
  return buffer;
}

// WeightedCue's declared default is 0.3; the staff flag and the lodged complaint default to 1.0
// when their message is not set.
double StaffFlagWeight(const v1::CueConfig& cues) {
  return cues.has_staff_flag() ? cues.staff_flag().weight() : 1.0;
}
double LodgedWeight(const v1::CueConfig& cues) {
  return cues.has_complaint_lodged() ? cues.complaint_lodged().weight() : 1.0;
}

void AddSortedUnique(RepeatedPtrField<std::string>* list, std::string_view value) {
  auto it = std::lower_bound(list->begin(), list->end(), value,
                             [](const std::string& a, std::string_view b) { return a < b; });
  if (it != list->end() && *it == value) return;
  const int index = static_cast<int>(it - list->begin());
  list->Add(std::string(value));
  for (int i = list->size() - 1; i > index; --i) list->SwapElements(i, i - 1);
}

bool Contains(const RepeatedPtrField<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void RemoveValue(RepeatedPtrField<std::string>* list, std::string_view value) {
  for (int i = 0; i < list->size(); ++i) {
    if (list->Get(i) == value) {
      list->erase(list->begin() + i);
      return;
    }
  }
}

void AddUnique(RepeatedPtrField<std::string>* list, std::string_view value) {
  if (!Contains(*list, value)) list->Add(std::string(value));
}

std::string_view CaseActionName(v1::CaseAction::Kind kind) {
  return v1::CaseAction::Kind_Name(kind);
}

}  // namespace

std::string CategoryForQueue(const v1::DomainConfig& config, std::string_view queue) {
  if (config.queues_size() == 0) {
    return queue.empty() ? config.default_category() : std::string(queue);
  }
  for (const v1::QueueConfig& q : config.queues()) {
    if (q.name() == queue) return q.category().empty() ? q.name() : q.category();
  }
  return config.default_category();
}

v1::Severity SeverityFor(const v1::DomainConfig& config, double score,
                         const RepeatedPtrField<std::string>& tags, int repeat_count) {
  const v1::SeverityConfig& s = config.severity();
  v1::Severity severity = v1::LOW;
  if (score + kScoreSlack >= s.critical_score()) {
    severity = v1::CRITICAL;
  } else if (score + kScoreSlack >= s.high_score()) {
    severity = v1::HIGH;
  } else if (score + kScoreSlack >= s.medium_score()) {
    severity = v1::MEDIUM;
  }
  auto at_least = [&severity](v1::Severity floor) {
    if (floor > severity) severity = floor;
  };
  if (Contains(tags, "phrase:regulator_or_legal")) at_least(s.regulator_or_legal_at_least());
  if (Contains(tags, "phrase:churn_threat")) at_least(s.churn_threat_at_least());
  if (Contains(tags, kCueComplaintLodged)) at_least(s.lodged_at_least());
  if (s.repeat_count_for_high() > 0 &&
      repeat_count >= static_cast<int>(s.repeat_count_for_high())) {
    at_least(v1::HIGH);
  }
  return severity;
}

// The work of one OnEvent or OnTimer call: the engine, the borrowed store and the effects being
// collected. Lives for one call; not thread-safe.
class EngineCall {
 public:
  EngineCall(const Engine& engine, StateStore& store, int64_t now_ms)
      : e_(engine), config_(engine.config_), store_(store), now_ms_(now_ms) {}

  absl::Status HandleEvent(const v1::ContactEvent& event);
  absl::Status HandleTimer(const v1::Timer& timer);
  Effects TakeEffects() { return std::move(fx_); }

 private:
  // ---- contacts ----
  absl::Status HandleContactEvent(const v1::ContactEvent& event);
  absl::Status CreateContact(const v1::ContactEvent& event, bool live, v1::ContactState* contact);
  absl::Status OnCustomerTurn(const v1::Turn& turn, v1::ContactState* contact);
  absl::Status EndContact(v1::ContactState* contact, bool abandoned);
  bool CheckLongHold(v1::ContactState* contact, int64_t hold_ms);
  bool AddCue(v1::ContactState* contact, std::string_view cue, double value, double weight,
              std::string detail);
  absl::Status Evaluate(v1::ContactState* contact);
  std::string LiveCategory(const v1::ContactState& contact) const;

  // ---- cases ----
  absl::StatusOr<std::string> OpenOrAttach(const std::string& customer_key,
                                           const std::string& category, double score,
                                           const RepeatedPtrField<v1::AlertReason>& reasons,
                                           const RepeatedPtrField<std::string>& tags,
                                           const std::string& queue, v1::Channel channel,
                                           const std::string& contact_id);
  absl::Status UpdateCaseFromContact(const v1::ContactState& contact);
  absl::Status HandleCaseAction(const v1::ContactEvent& event);
  absl::Status HandleLodged(const v1::ContactEvent& event);
  absl::Status HandleErasure(const v1::ContactEvent& event);
  absl::Status HandleSurvey(const v1::ContactEvent& event);
  void Audit(v1::ComplaintCase* c, std::string what, std::string actor, std::string detail);
  void RaiseSeverity(v1::ComplaintCase* c, v1::Severity severity);

  // ---- SLA ----
  const sla::Policy& CasePolicy(const v1::ComplaintCase& c) const;
  void StartMilestones(v1::ComplaintCase* c, bool follow_up_only, int64_t at_ms);
  void AdvanceAll(v1::ComplaintCase* c, int64_t at_ms);
  void CompleteKinds(v1::ComplaintCase* c, std::initializer_list<sla::MilestoneKind> kinds,
                     int64_t at_ms);
  void CompleteOne(v1::ComplaintCase* c, v1::MilestoneState* m, int64_t at_ms);
  absl::Status RescheduleCase(v1::ComplaintCase* c);
  void MigratePolicy(v1::ComplaintCase* c, int64_t at_ms);
  void RestartForReopen(v1::ComplaintCase* c);

  // ---- timers ----
  absl::Status AddTimer(RepeatedPtrField<v1::Timer>* timers, v1::Timer timer);
  template <typename Build>
  absl::Status AddTimerInPlace(RepeatedPtrField<v1::Timer>* timers, Build build);
  template <typename Pred>
  absl::Status CancelTimers(RepeatedPtrField<v1::Timer>* timers, Pred pred);
  static bool TakePending(RepeatedPtrField<v1::Timer>* timers, const v1::Timer& timer);
  absl::Status StartLiveClock(v1::ContactState* contact, sla::LiveClock clock, int64_t start_ms);
  absl::Status ScheduleLiveStep(v1::ContactState* contact, std::string_view clock, int64_t due_ms,
                                int64_t deadline_ms, double fraction);
  void FireLiveClock(const v1::ContactState& contact, const v1::Timer& timer, bool* breached,
                     std::optional<std::pair<int64_t, double>>* next);
  absl::Status StopLiveClock(v1::ContactState* contact, std::string_view clock);
  absl::Status MaybeScheduleCustomerExpiry(v1::CustomerState* customer);
  absl::Status DeleteCaseFully(v1::ComplaintCase* c);

  // ---- alerts and outcomes ----
  v1::Alert& NewAlert(v1::AlertKind kind, std::string alert_id);
  void FillFromCase(v1::Alert& alert, const v1::ComplaintCase& c);
  Outcome& NewOutcome(OutcomeKind kind);
  Outcome& NewCaseOutcome(OutcomeKind kind, const v1::ComplaintCase& c);
  std::string QueueLabel(std::string_view queue) const;

  const Engine& e_;
  const v1::DomainConfig& config_;
  StateStore& store_;
  int64_t now_ms_;
  int64_t t_ms_ = 0;           // time of what is being handled (event time or now)
  std::string_view event_id_;  // the event being handled (borrowed); empty for timers
  std::string actor_ = std::string(kSystemActor);
  Effects fx_;
};

// ------------------------------------------------------------------------------------------
// Alerts and outcomes

v1::Alert& EngineCall::NewAlert(v1::AlertKind kind, std::string alert_id) {
  v1::Alert& alert = fx_.alerts.emplace_back();
  alert.set_alert_id(std::move(alert_id));
  alert.set_kind(kind);
  alert.set_event_time_ms(t_ms_);
  alert.set_source_event_id(std::string(event_id_));
  return alert;
}

void EngineCall::FillFromCase(v1::Alert& alert, const v1::ComplaintCase& c) {
  alert.set_severity(c.severity());
  alert.set_case_id(c.case_id());
  alert.set_customer_key(c.customer_key());
  alert.set_queue(c.queue());
  alert.set_channel(c.channel());
  alert.set_category(c.category());
  if (alert.contact_id().empty() && c.contact_ids_size() > 0) {
    alert.set_contact_id(c.contact_ids(c.contact_ids_size() - 1));
  }
}

Outcome& EngineCall::NewOutcome(OutcomeKind kind) {
  Outcome& o = fx_.outcomes.emplace_back();
  o.kind = kind;
  return o;
}

Outcome& EngineCall::NewCaseOutcome(OutcomeKind kind, const v1::ComplaintCase& c) {
  Outcome& o = NewOutcome(kind);
  o.queue = QueueLabel(c.queue());
  o.channel = c.channel();
  o.category = c.category();
  o.severity = c.severity();
  o.state = c.state();
  o.subject = c.case_id();
  o.at_ms = t_ms_;
  return o;
}

std::string EngineCall::QueueLabel(std::string_view queue) const {
  if (queue.empty()) return "none";
  if (config_.queues_size() == 0) return std::string(queue);
  for (const v1::QueueConfig& q : config_.queues()) {
    if (q.name() == queue) return q.name();
  }
  return "other";
}

// ------------------------------------------------------------------------------------------
// Timers

absl::Status EngineCall::AddTimer(RepeatedPtrField<v1::Timer>* timers, v1::Timer timer) {
  for (const v1::Timer& existing : *timers) {
    if (existing.timer_id() == timer.timer_id() && existing.due_ms() == timer.due_ms()) {
      return absl::OkStatus();
    }
  }
  CC_RETURN_IF_ERROR(store_.PutTimer(timer));
  *timers->Add() = std::move(timer);
  return absl::OkStatus();
}

// As AddTimer, with the timer built by `build` in a new element of `timers`: the field reuses an
// element (and its strings) left by RemoveTimerAt when it has one, so a timer that is started
// and stopped on every contact allocates nothing once the record has been through the cycle.
template <typename Build>
absl::Status EngineCall::AddTimerInPlace(RepeatedPtrField<v1::Timer>* timers, Build build) {
  v1::Timer* timer = timers->Add();
  build(timer);
  for (int i = 0; i + 1 < timers->size(); ++i) {
    const v1::Timer& existing = timers->Get(i);
    if (existing.timer_id() == timer->timer_id() && existing.due_ms() == timer->due_ms()) {
      timers->RemoveLast();
      return absl::OkStatus();
    }
  }
  absl::Status status = store_.PutTimer(*timer);
  if (!status.ok()) timers->RemoveLast();
  return status;
}

namespace {

// Removes element `i`, keeping the order of the others. The removed message stays in the field,
// cleared, for the next Add to reuse (RepeatedPtrField::erase would delete it).
void RemoveTimerAt(RepeatedPtrField<v1::Timer>* timers, int i) {
  for (int j = i; j + 1 < timers->size(); ++j) timers->SwapElements(j, j + 1);
  timers->RemoveLast();
}

}  // namespace

template <typename Pred>
absl::Status EngineCall::CancelTimers(RepeatedPtrField<v1::Timer>* timers, Pred pred) {
  for (int i = 0; i < timers->size();) {
    if (pred(timers->Get(i))) {
      CC_RETURN_IF_ERROR(store_.DeleteTimer(timers->Get(i)));
      RemoveTimerAt(timers, i);
    } else {
      ++i;
    }
  }
  return absl::OkStatus();
}

bool EngineCall::TakePending(RepeatedPtrField<v1::Timer>* timers, const v1::Timer& timer) {
  for (int i = 0; i < timers->size(); ++i) {
    if (timers->Get(i).timer_id() == timer.timer_id() &&
        timers->Get(i).due_ms() == timer.due_ms()) {
      RemoveTimerAt(timers, i);
      return true;
    }
  }
  return false;
}

// A live clock keeps one timer at a time: its first warning, then (when that fires) the next
// step not yet due, up to the breach at the deadline.
absl::Status EngineCall::StartLiveClock(v1::ContactState* contact, sla::LiveClock clock,
                                        int64_t start_ms) {
  const sla::MilestoneSpec& spec = e_.policies_.LiveSpec(clock);
  for (const v1::Timer& t : contact->timers()) {
    if (t.kind() == v1::CONTACT_LIVE_SLA && t.milestone() == spec.name) return absl::OkStatus();
  }
  const int64_t deadline = start_ms + spec.target_ms;
  if (spec.warning_fractions.empty()) {
    return ScheduleLiveStep(contact, spec.name, deadline, deadline, 0);
  }
  const double first = spec.warning_fractions.front();
  return ScheduleLiveStep(contact, spec.name, LiveStepDue(spec, deadline, first), deadline, first);
}

absl::Status EngineCall::ScheduleLiveStep(v1::ContactState* contact, std::string_view clock,
                                          int64_t due_ms, int64_t deadline_ms, double fraction) {
  const std::string& contact_id = contact->contact_id();
  return AddTimerInPlace(contact->mutable_timers(), [&](v1::Timer* timer) {
    timer->set_due_ms(due_ms);
    absl::StrAppend(timer->mutable_timer_id(), "contact/", contact_id, "/",
                    absl::string_view(clock.data(), clock.size()), "/", due_ms);
    timer->set_contact_id(contact_id);
    timer->mutable_milestone()->assign(clock.data(), clock.size());
    timer->set_kind(v1::CONTACT_LIVE_SLA);
    timer->set_deadline_ms(deadline_ms);
    timer->set_fraction(fraction);
  });
}

// Raises what a live clock's timer stands for at now_ms: the latest of its steps already due
// (a warning, or the breach), so that a clock fired late raises one alert, not a burst of stale
// warnings. Sets *breached for the breach, else *next to the next step (due, fraction).
void EngineCall::FireLiveClock(const v1::ContactState& contact, const v1::Timer& timer,
                               bool* breached, std::optional<std::pair<int64_t, double>>* next) {
  const int64_t deadline = timer.deadline_ms() > 0 ? timer.deadline_ms() : timer.due_ms();
  double fraction = 1.0;
  int64_t at_ms = deadline;
  *breached = timer.fraction() <= 0 || deadline <= now_ms_;
  if (!*breached) {
    fraction = timer.fraction();
    at_ms = timer.due_ms();
    if (const sla::MilestoneSpec* spec = e_.policies_.FindLiveSpec(timer.milestone())) {
      for (double f : spec->warning_fractions) {
        if (f <= timer.fraction()) continue;
        const int64_t due = LiveStepDue(*spec, deadline, f);
        if (due <= now_ms_) {
          fraction = f;
          at_ms = due;
        } else if (!next->has_value()) {
          *next = std::make_pair(due, f);
        }
      }
    }
    if (!next->has_value()) *next = std::make_pair(deadline, 0.0);
  }
  const v1::AlertKind kind = *breached ? v1::LIVE_SLA_BREACH : v1::LIVE_SLA_WARNING;
  v1::Alert& alert =
      *breached ? NewAlert(kind, HashId({"live", contact.contact_id(), timer.milestone(),
                                         absl::StrCat(deadline)}))
                : NewAlert(kind, HashId({"live_warning", contact.contact_id(), timer.milestone(),
                                         absl::StrCat(deadline), FractionText(fraction)}));
  alert.set_contact_id(contact.contact_id());
  alert.set_customer_key(contact.customer_key());
  alert.set_queue(contact.queue());
  alert.set_channel(contact.channel());
  alert.set_milestone(timer.milestone());
  alert.set_deadline_ms(deadline);
  alert.set_fraction(fraction);
  alert.set_case_id(contact.case_id());
  alert.set_event_time_ms(at_ms);
  Outcome& o = NewOutcome(*breached ? OutcomeKind::kLiveSlaBreach : OutcomeKind::kLiveSlaWarning);
  o.queue = QueueLabel(contact.queue());
  o.channel = contact.channel();
  o.milestone = timer.milestone();
  o.fraction = fraction;
  Outcome& a = NewOutcome(OutcomeKind::kAlert);
  a.alert_kind = kind;
  // Not o.queue: adding `a` may have moved the outcomes and left `o` dangling.
  a.queue = QueueLabel(contact.queue());
  a.channel = contact.channel();
}

absl::Status EngineCall::StopLiveClock(v1::ContactState* contact, std::string_view clock) {
  return CancelTimers(contact->mutable_timers(), [clock](const v1::Timer& t) {
    return t.kind() == v1::CONTACT_LIVE_SLA && t.milestone() == clock;
  });
}

absl::Status EngineCall::MaybeScheduleCustomerExpiry(v1::CustomerState* customer) {
  if (customer->case_ids_size() > 0 || customer->contact_ids_size() > 0) {
    return CancelTimers(customer->mutable_timers(), [](const v1::Timer&) { return true; });
  }
  // One anonymous contact's: nothing to detect a repeat contact of.
  const int64_t due =
      customer->single_contact()
          ? t_ms_
          : customer->last_contact_ms() + int64_t{config_.repeat_contact_window_s()} * 1000;
  CC_RETURN_IF_ERROR(CancelTimers(customer->mutable_timers(),
                                  [due](const v1::Timer& t) { return t.due_ms() != due; }));
  const std::string& customer_key = customer->customer_key();
  return AddTimerInPlace(customer->mutable_timers(), [&](v1::Timer* timer) {
    timer->set_due_ms(due);
    absl::StrAppend(timer->mutable_timer_id(), "customer/", customer_key, "/expiry/", due);
    timer->set_customer_key(customer_key);
    timer->set_kind(v1::CUSTOMER_EXPIRY);
  });
}

// ------------------------------------------------------------------------------------------
// Events

absl::Status EngineCall::HandleEvent(const v1::ContactEvent& event) {
  t_ms_ = event.event_time_ms();
  event_id_ = event.event_id();
  switch (event.payload_case()) {
    case v1::ContactEvent::kErasureRequest:
      return HandleErasure(event);
    case v1::ContactEvent::kCaseAction:
      if (event.case_action().kind() == v1::CaseAction::FLAG_COMPLAINT) {
        return HandleContactEvent(event);
      }
      return HandleCaseAction(event);
    case v1::ContactEvent::kComplaintLodged:
      return HandleLodged(event);
    case v1::ContactEvent::kSurvey:
      return HandleSurvey(event);
    case v1::ContactEvent::kQueued:
    case v1::ContactEvent::kAnswered:
    case v1::ContactEvent::kTurn:
    case v1::ContactEvent::kHoldStarted:
    case v1::ContactEvent::kHoldEnded:
    case v1::ContactEvent::kTransferred:
    case v1::ContactEvent::kAbandoned:
    case v1::ContactEvent::kEnded:
      return HandleContactEvent(event);
    case v1::ContactEvent::PAYLOAD_NOT_SET:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status EngineCall::CreateContact(const v1::ContactEvent& event, bool live,
                                       v1::ContactState* contact) {
  const std::string customer_key = e_.CustomerKeyOf(event);
  const bool anonymous = e_.IsAnonymousCustomer(event.customer_id());
  contact->set_contact_id(event.contact_id());
  contact->set_customer_key(customer_key);
  contact->set_queue(event.queue());
  contact->set_channel(event.channel());
  contact->set_first_seen_ms(t_ms_);

  v1::CustomerState customer;
  absl::StatusOr<bool> found = store_.ReadCustomer(customer_key, customer);
  if (!found.ok()) return found.status();
  if (!*found) {
    customer.set_customer_key(customer_key);
    customer.set_single_contact(anonymous);
  }
  const bool repeat =
      live && !customer.last_contact_id().empty() &&
      customer.last_contact_id() != contact->contact_id() && t_ms_ >= customer.last_contact_ms() &&
      t_ms_ - customer.last_contact_ms() <= int64_t{config_.repeat_contact_window_s()} * 1000;
  const double since_s = (t_ms_ - customer.last_contact_ms()) / 1000.0;
  const int open_cases = customer.open_case_ids_size();
  if (live) {
    customer.set_last_contact_ms(std::max(customer.last_contact_ms(), t_ms_));
    customer.set_last_contact_id(contact->contact_id());
  }
  AddUnique(customer.mutable_contact_ids(), contact->contact_id());
  CC_RETURN_IF_ERROR(MaybeScheduleCustomerExpiry(&customer));
  CC_RETURN_IF_ERROR(store_.PutCustomer(std::move(customer)));

  if (live) {
    Outcome& offered = NewOutcome(OutcomeKind::kContactOffered);
    offered.queue = QueueLabel(contact->queue());
    offered.channel = contact->channel();
    if (anonymous) {
      Outcome& o = NewOutcome(OutcomeKind::kAnonymousContact);
      o.queue = offered.queue;
      o.channel = offered.channel;
    }
  }
  if (repeat) {
    contact->set_repeat_contact(true);
    Outcome& o = NewOutcome(OutcomeKind::kRepeatContact);
    o.queue = QueueLabel(contact->queue());
    o.channel = contact->channel();
    o.value = since_s;
    AddCue(contact, kCueRepeatContact, since_s,
           config_.cues().has_repeat_contact() ? config_.cues().repeat_contact().weight() : 0.3,
           "seconds since the previous contact");
  }
  if (open_cases > 0) {
    AddCue(contact, kCueOpenComplaint, open_cases,
           config_.cues().has_open_complaint() ? config_.cues().open_complaint().weight() : 0.3,
           "open complaint cases of the customer");
  }
  if (live && contact->channel() == v1::SOCIAL) {
    CC_RETURN_IF_ERROR(StartLiveClock(contact, sla::LiveClock::kSocialFirstResponse, t_ms_));
  }
  return absl::OkStatus();
}

absl::Status EngineCall::HandleContactEvent(const v1::ContactEvent& event) {
  // Taken into this message, worked on in place and moved back into the store at the end (no
  // other read of it in between).
  v1::ContactState contact;
  absl::StatusOr<bool> found = store_.TakeContact(event.contact_id(), contact);
  if (!found.ok()) return found.status();
  const bool is_new = !*found;
  // Cues already present before this event (repeat contact, open complaint added on creation
  // count as new so that they are evaluated below).
  int cues_before = 0;
  if (is_new) {
    const bool live = event.payload_case() != v1::ContactEvent::kCaseAction;
    CC_RETURN_IF_ERROR(CreateContact(event, live, &contact));
    // A contact first seen through a staff flag (e.g. after its live state expired) is not
    // live: it only carries the flag and expires like an ended contact.
    if (!live) CC_RETURN_IF_ERROR(EndContact(&contact, /*abandoned=*/false));
  } else {
    cues_before = contact.cues_size();
  }
  contact.set_updated_ms(std::max(contact.updated_ms(), t_ms_));
  bool tags_changed = false;

  switch (event.payload_case()) {
    case v1::ContactEvent::kQueued:
      if (contact.queued_ms() != 0) break;  // queued once; a repeated ContactQueued is ignored
      contact.set_queued_ms(t_ms_);
      if (!event.queue().empty() && !contact.answered()) contact.set_queue(event.queue());
      if (!contact.answered() && !contact.ended()) {
        CC_RETURN_IF_ERROR(
            StartLiveClock(&contact, sla::LiveClock::kQueueWait, contact.queued_ms()));
      }
      break;
    case v1::ContactEvent::kAnswered:
      if (!contact.answered() && !contact.ended()) {
        contact.set_answered(true);
        contact.set_answered_ms(t_ms_);
        CC_RETURN_IF_ERROR(StopLiveClock(&contact, kClockQueueWait));
        const std::string queue = QueueLabel(contact.queue());
        const double wait_s = contact.queued_ms() > 0
                                  ? std::max<int64_t>(0, t_ms_ - contact.queued_ms()) / 1000.0
                                  : 0.0;
        Outcome& answered = NewOutcome(OutcomeKind::kContactAnswered);
        answered.queue = queue;
        answered.channel = contact.channel();
        answered.value = wait_s;
        if (contact.queued_ms() > 0) {
          Outcome& wait = NewOutcome(OutcomeKind::kWaitTime);
          wait.queue = queue;
          wait.channel = contact.channel();
          wait.value = wait_s;
          if (wait_s <= config_.service_level_threshold_s()) {
            Outcome& within = NewOutcome(OutcomeKind::kAnsweredWithinThreshold);
            within.queue = queue;
            within.channel = contact.channel();
            within.value = wait_s;
          }
        }
        if (contact.channel() == v1::CHAT && contact.first_agent_turn_ms() == 0) {
          CC_RETURN_IF_ERROR(StartLiveClock(&contact, sla::LiveClock::kChatFirstResponse, t_ms_));
        }
      }
      break;
    case v1::ContactEvent::kTurn: {
      const v1::Turn& turn = event.turn();
      if (turn.speaker() == v1::AGENT) {
        if (contact.first_agent_turn_ms() == 0) {
          contact.set_first_agent_turn_ms(t_ms_);
          CC_RETURN_IF_ERROR(StopLiveClock(&contact, kClockChatFirstResponse));
          CC_RETURN_IF_ERROR(StopLiveClock(&contact, kClockSocialFirstResponse));
        }
      } else if (turn.speaker() == v1::CUSTOMER) {
        const int phrases_before = contact.phrase_classes_size();
        CC_RETURN_IF_ERROR(OnCustomerTurn(turn, &contact));
        tags_changed = contact.phrase_classes_size() != phrases_before;
      }
      break;
    }
    case v1::ContactEvent::kHoldStarted:
      if (!contact.on_hold() && !contact.ended()) {
        contact.set_on_hold(true);
        contact.set_hold_started_ms(t_ms_);
        CC_RETURN_IF_ERROR(StartLiveClock(&contact, sla::LiveClock::kHold, t_ms_));
      }
      break;
    case v1::ContactEvent::kHoldEnded:
      if (contact.on_hold()) {
        const int64_t hold_ms = std::max<int64_t>(0, t_ms_ - contact.hold_started_ms());
        contact.set_on_hold(false);
        contact.set_hold_total_ms(contact.hold_total_ms() + hold_ms);
        CC_RETURN_IF_ERROR(StopLiveClock(&contact, kClockHold));
        CheckLongHold(&contact, hold_ms);
      }
      break;
    case v1::ContactEvent::kTransferred: {
      contact.set_transfers(contact.transfers() + 1);
      if (!event.transferred().to_queue().empty()) {
        contact.set_queue(event.transferred().to_queue());
      }
      const v1::RepeatedTransfersCue& cue = config_.cues().repeated_transfers();
      if (contact.transfers() >= static_cast<int>(cue.min_transfers())) {
        AddCue(&contact, kCueRepeatedTransfers, contact.transfers(), cue.weight(), "");
      }
      break;
    }
    case v1::ContactEvent::kAbandoned:
      CC_RETURN_IF_ERROR(EndContact(&contact, /*abandoned=*/!contact.answered()));
      break;
    case v1::ContactEvent::kEnded:
      CC_RETURN_IF_ERROR(EndContact(&contact, /*abandoned=*/false));
      break;
    case v1::ContactEvent::kCaseAction: {
      const v1::CaseAction& action = event.case_action();
      if (!action.category().empty()) contact.set_category(action.category());
      AddCue(&contact, kCueStaffFlag, 1, StaffFlagWeight(config_.cues()),
             contact.category().empty() ? "" : absl::StrCat("category ", contact.category()));
      break;
    }
    default:
      break;
  }
  if (contact.on_hold()) CheckLongHold(&contact, t_ms_ - contact.hold_started_ms());

  if (contact.cues_size() != cues_before || tags_changed) {
    CC_RETURN_IF_ERROR(Evaluate(&contact));
  }
  return store_.PutContact(std::move(contact));
}

absl::Status EngineCall::OnCustomerTurn(const v1::Turn& turn, v1::ContactState* contact) {
  const v1::CueConfig& cues = config_.cues();
  contact->set_customer_turns(contact->customer_turns() + 1);
  std::optional<TextSignals> signals;
  if (!turn.text().empty()) signals = e_.analyzer_->Analyze(turn.text());

  std::optional<double> sentiment;
  if (turn.has_upstream_sentiment()) {
    sentiment = std::clamp<double>(turn.upstream_sentiment(), -1.0, 1.0);
  } else if (signals.has_value()) {
    sentiment = signals->sentiment;
  }
  if (sentiment.has_value() && std::isfinite(*sentiment)) {
    auto* window = contact->mutable_sentiments();
    window->Add(static_cast<float>(*sentiment));
    const int max_window = static_cast<int>(std::max<uint32_t>(1, cues.max_window_turns()));
    if (window->size() > max_window) window->erase(window->begin(), window->end() - max_window);

    const v1::RepeatedDissatisfactionCue& rd = cues.repeated_dissatisfaction();
    const int look = std::min<int>(window->size(), static_cast<int>(rd.window_turns()));
    int dissatisfied = 0;
    for (int i = window->size() - look; i < window->size(); ++i) {
      if (window->Get(i) <= rd.sentiment_at_most() + 1e-9) ++dissatisfied;
    }
    if (rd.min_turns() > 0 && dissatisfied >= static_cast<int>(rd.min_turns())) {
      AddCue(contact, kCueRepeatedDissatisfaction, dissatisfied, rd.weight(),
             absl::StrCat("of the last ", look, " customer turns"));
    }

    const v1::FallingSentimentCue& fs = cues.falling_sentiment();
    const int n = window->size();
    if (n >= static_cast<int>(std::max<uint32_t>(3, fs.min_turns()))) {
      const int third = n / 3;
      double first = 0;
      double last = 0;
      for (int i = 0; i < third; ++i) first += window->Get(i);
      for (int i = n - third; i < n; ++i) last += window->Get(i);
      const double drop = (first - last) / third;
      if (drop >= fs.min_drop()) {
        AddCue(contact, kCueFallingSentiment, drop, fs.weight(),
               "mean sentiment drop, first to last third");
      }
    }
  }

  if (signals.has_value()) {
    const v1::ComplaintIntentCue& ci = cues.complaint_intent();
    if (signals->complaint_probability >= ci.min_probability()) {
      AddCue(contact, kCueComplaintIntent, signals->complaint_probability, ci.weight(), "");
    }
    if (signals->AnyPhrase()) {
      auto* classes = contact->mutable_phrase_classes();
      if (signals->manager_request) AddSortedUnique(classes, "manager_request");
      if (signals->churn_threat) AddSortedUnique(classes, "churn_threat");
      if (signals->regulator_or_legal) AddSortedUnique(classes, "regulator_or_legal");
      if (signals->repeat_contact) AddSortedUnique(classes, "repeat_contact");
      const std::string detail = absl::StrJoin(*classes, ",");
      bool found = false;
      for (v1::AlertReason& reason : *contact->mutable_cues()) {
        if (reason.cue() == kCueEscalationPhrase) {
          reason.set_value(classes->size());
          reason.set_detail(detail);
          found = true;
        }
      }
      if (!found) {
        AddCue(contact, kCueEscalationPhrase, classes->size(), cues.escalation_phrase().weight(),
               detail);
      }
    }
  }

  if (turn.interruption()) {
    contact->set_interruptions(contact->interruptions() + 1);
    const v1::InterruptionsCue& ic = cues.interruptions();
    if (contact->interruptions() >=
        static_cast<int>(std::max<uint32_t>(1, ic.min_interruptions()))) {
      AddCue(contact, kCueInterruptions, contact->interruptions(), ic.weight(), "");
    }
  }

  if (turn.has_loudness_db() && std::isfinite(turn.loudness_db())) {
    const v1::RaisedVoiceCue& rv = cues.raised_voice();
    const double db = turn.loudness_db();
    if (contact->loudness_turns() >= static_cast<int>(rv.baseline_turns()) &&
        contact->loudness_turns() > 0 &&
        db >= contact->loudness_baseline_db() + rv.db_above_baseline()) {
      contact->set_raised_voice_turns(contact->raised_voice_turns() + 1);
      if (contact->raised_voice_turns() >=
          static_cast<int>(std::max<uint32_t>(1, rv.min_turns()))) {
        AddCue(contact, kCueRaisedVoice, contact->raised_voice_turns(), rv.weight(),
               absl::StrCat("turns at least ", rv.db_above_baseline(), " dB above baseline"));
      }
    } else {
      const int n = contact->loudness_turns() + 1;
      contact->set_loudness_turns(n);
      contact->set_loudness_baseline_db(contact->loudness_baseline_db() +
                                        (db - contact->loudness_baseline_db()) / n);
    }
  }
  return absl::OkStatus();
}

bool EngineCall::CheckLongHold(v1::ContactState* contact, int64_t hold_ms) {
  const v1::LongHoldCue& cue = config_.cues().long_hold();
  if (hold_ms >= int64_t{cue.hold_s()} * 1000) {
    return AddCue(contact, kCueLongHold, hold_ms / 1000.0, cue.weight(), "hold seconds");
  }
  return false;
}

absl::Status EngineCall::EndContact(v1::ContactState* contact, bool abandoned) {
  if (contact->ended()) return absl::OkStatus();
  contact->set_ended(true);
  contact->set_ended_ms(t_ms_);
  if (contact->on_hold()) {
    contact->set_hold_total_ms(contact->hold_total_ms() +
                               std::max<int64_t>(0, t_ms_ - contact->hold_started_ms()));
    contact->set_on_hold(false);
  }
  const std::string queue = QueueLabel(contact->queue());
  if (abandoned) {
    contact->set_abandoned(true);
    Outcome& o = NewOutcome(OutcomeKind::kContactAbandoned);
    o.queue = queue;
    o.channel = contact->channel();
    o.value = contact->queued_ms() > 0 ? std::max<int64_t>(0, t_ms_ - contact->queued_ms()) / 1000.0
                                       : 0.0;
  } else if (contact->answered()) {
    Outcome& o = NewOutcome(OutcomeKind::kHandleTime);
    o.queue = queue;
    o.channel = contact->channel();
    o.value = std::max<int64_t>(0, t_ms_ - contact->answered_ms()) / 1000.0;
  }
  {
    Outcome& ended = NewOutcome(OutcomeKind::kContactEnded);
    ended.queue = queue;
    ended.channel = contact->channel();
    ended.subject = contact->contact_id();
    ended.at_ms = t_ms_;
  }
  CC_RETURN_IF_ERROR(CancelTimers(contact->mutable_timers(), [](const v1::Timer& t) {
    return t.kind() == v1::CONTACT_LIVE_SLA;
  }));
  const int64_t due = t_ms_ + int64_t{config_.contact_retention_s()} * 1000;
  const std::string& contact_id = contact->contact_id();
  CC_RETURN_IF_ERROR(AddTimerInPlace(contact->mutable_timers(), [&](v1::Timer* expiry) {
    expiry->set_due_ms(due);
    absl::StrAppend(expiry->mutable_timer_id(), "contact/", contact_id, "/expiry/", due);
    expiry->set_contact_id(contact_id);
    expiry->set_kind(v1::CONTACT_EXPIRY);
  }));

  v1::CustomerState customer;
  absl::StatusOr<bool> found = store_.ReadCustomer(contact->customer_key(), customer);
  if (!found.ok()) return found.status();
  if (*found && customer.last_contact_id() == contact->contact_id() &&
      customer.last_contact_ms() < t_ms_) {
    customer.set_last_contact_ms(t_ms_);
    CC_RETURN_IF_ERROR(store_.PutCustomer(std::move(customer)));
  }
  return absl::OkStatus();
}

bool EngineCall::AddCue(v1::ContactState* contact, std::string_view cue, double value,
                        double weight, std::string detail) {
  for (const v1::AlertReason& reason : contact->cues()) {
    if (reason.cue() == cue) return false;
  }
  v1::AlertReason* reason = contact->add_cues();
  reason->set_cue(std::string(cue));
  reason->set_value(value);
  reason->set_weight(weight);
  reason->set_detail(std::move(detail));
  Outcome& o = NewOutcome(OutcomeKind::kCueFired);
  o.queue = QueueLabel(contact->queue());
  o.channel = contact->channel();
  o.cue = std::string(cue);
  return true;
}

std::string EngineCall::LiveCategory(const v1::ContactState& contact) const {
  if (!contact.category().empty()) return contact.category();
  return CategoryForQueue(config_, contact.queue());
}

absl::Status EngineCall::Evaluate(v1::ContactState* contact) {
  double score = 0;
  for (const v1::AlertReason& reason : contact->cues()) score += reason.weight();
  contact->set_escalation_score(score);

  RepeatedPtrField<std::string> tags;
  for (const v1::AlertReason& reason : contact->cues()) *tags.Add() = reason.cue();
  for (const std::string& phrase : contact->phrase_classes()) {
    *tags.Add() = absl::StrCat("phrase:", phrase);
  }

  int level = 0;
  if (score + kScoreSlack >= config_.open_case_score()) {
    level = 2;
  } else if (score + kScoreSlack >= config_.escalate_score()) {
    level = 1;
  }
  if (level > contact->escalation_level()) {
    contact->set_escalation_level(level);
    contact->set_escalated(true);
    v1::Alert& alert = NewAlert(
        v1::ESCALATION, HashId({"escalation", contact->contact_id(),
                                absl::StrCat(contact->first_seen_ms()), absl::StrCat(level)}));
    alert.set_severity(SeverityFor(config_, score, tags, 0));
    alert.set_contact_id(contact->contact_id());
    alert.set_customer_key(contact->customer_key());
    alert.set_queue(contact->queue());
    alert.set_channel(contact->channel());
    alert.set_category(LiveCategory(*contact));
    alert.set_score(score);
    alert.set_escalation_level(level);
    alert.set_case_id(contact->case_id());
    *alert.mutable_reasons() = contact->cues();
    for (const v1::AlertReason& reason : contact->cues()) {
      Outcome& o = NewOutcome(OutcomeKind::kEscalation);
      o.queue = QueueLabel(contact->queue());
      o.channel = contact->channel();
      o.cue = reason.cue();
    }
    Outcome& a = NewOutcome(OutcomeKind::kAlert);
    a.alert_kind = v1::ESCALATION;
    a.queue = QueueLabel(contact->queue());
    a.channel = contact->channel();
  }

  if (score + kScoreSlack < config_.open_case_score()) return absl::OkStatus();
  if (contact->case_id().empty()) {
    absl::StatusOr<std::string> case_id =
        OpenOrAttach(contact->customer_key(), LiveCategory(*contact), score, contact->cues(), tags,
                     contact->queue(), contact->channel(), contact->contact_id());
    if (!case_id.ok()) return case_id.status();
    contact->set_case_id(*case_id);
    return absl::OkStatus();
  }
  return UpdateCaseFromContact(*contact);
}

// ------------------------------------------------------------------------------------------
// Cases

void EngineCall::Audit(v1::ComplaintCase* c, std::string what, std::string actor,
                       std::string detail) {
  v1::AuditEntry* entry = c->add_audit();
  entry->set_time_ms(t_ms_);
  entry->set_what(std::move(what));
  entry->set_event_id(std::string(event_id_));
  entry->set_actor(std::move(actor));
  entry->set_detail(std::move(detail));
  const int max_entries = static_cast<int>(std::max<uint32_t>(2, config_.max_audit_entries()));
  if (c->audit_size() > max_entries) {
    // Keep the opening entry; drop the oldest after it.
    c->mutable_audit()->erase(c->mutable_audit()->begin() + 1);
  }
}

void EngineCall::RaiseSeverity(v1::ComplaintCase* c, v1::Severity severity) {
  if (severity <= c->severity()) return;
  const v1::Severity previous = c->severity();
  if (IsOpenState(c->state())) {
    Outcome& down = NewCaseOutcome(OutcomeKind::kOpenCasesDelta, *c);
    down.delta = -1;
  }
  c->set_severity(severity);
  Outcome& changed = NewCaseOutcome(OutcomeKind::kSeverityChanged, *c);
  changed.previous_severity = previous;
  if (IsOpenState(c->state())) {
    Outcome& up = NewCaseOutcome(OutcomeKind::kOpenCasesDelta, *c);
    up.delta = 1;
  }
  Audit(c, absl::StrCat("severity ", v1::Severity_Name(severity)), std::string(kSystemActor),
        absl::StrCat("from ", v1::Severity_Name(previous)));
  if (IsOpenState(c->state())) MigratePolicy(c, t_ms_);
}

absl::StatusOr<std::string> EngineCall::OpenOrAttach(
    const std::string& customer_key, const std::string& category, double score,
    const RepeatedPtrField<v1::AlertReason>& reasons, const RepeatedPtrField<std::string>& tags,
    const std::string& queue, v1::Channel channel, const std::string& contact_id) {
  v1::CustomerState customer;
  absl::StatusOr<bool> found = store_.ReadCustomer(customer_key, customer);
  if (!found.ok()) return found.status();
  if (!*found) customer.set_customer_key(customer_key);

  v1::ComplaintCase c;
  for (const std::string& open_id : customer.open_case_ids()) {
    absl::StatusOr<bool> open = store_.ReadCase(open_id, c);
    if (!open.ok()) return open.status();
    if (!*open || c.category() != category) continue;
    c.set_repeat_count(c.repeat_count() + 1);
    c.set_updated_ms(std::max(c.updated_ms(), t_ms_));
    c.set_score(std::max(c.score(), score));
    if (!contact_id.empty()) AddUnique(c.mutable_contact_ids(), contact_id);
    for (const std::string& tag : tags) AddSortedUnique(c.mutable_cues(), tag);
    Audit(&c, "attached", std::string(kSystemActor),
          absl::StrCat("repeat ", c.repeat_count(), ", score ", FractionText(score)));
    NewCaseOutcome(OutcomeKind::kCaseAttached, c);
    RaiseSeverity(&c, SeverityFor(config_, c.score(), c.cues(), c.repeat_count()));
    AdvanceAll(&c, t_ms_);
    if (c.state() == v1::RESOLVED || c.state() == v1::FOLLOWED_UP) {
      // A new complaint on a resolved case reopens it, as a REOPEN action would.
      const v1::CaseState from = c.state();
      c.set_state(v1::REOPENED);
      Audit(&c, "transition REOPENED", std::string(kSystemActor),
            absl::StrCat("from ", v1::CaseState_Name(from), ", new complaint"));
      NewCaseOutcome(OutcomeKind::kCaseTransition, c).detail =
          std::string(CaseActionName(v1::CaseAction::REOPEN));
      RestartForReopen(&c);
    }
    CC_RETURN_IF_ERROR(RescheduleCase(&c));
    v1::Alert& alert =
        NewAlert(v1::CASE_UPDATED,
                 HashId({"case_updated", c.case_id(), event_id_, absl::StrCat(c.repeat_count())}));
    alert.set_contact_id(contact_id);
    FillFromCase(alert, c);
    alert.set_score(score);
    alert.set_repeat_count(c.repeat_count());
    *alert.mutable_reasons() = reasons;
    NewCaseOutcome(OutcomeKind::kAlert, c).alert_kind = v1::CASE_UPDATED;
    std::string case_id = c.case_id();
    CC_RETURN_IF_ERROR(store_.PutCase(std::move(c)));
    return case_id;
  }

  // No open case of this category: a new one (in the message the loop read into).
  c.Clear();
  c.set_case_id(absl::StrCat("case-", HashId({customer_key, category, event_id_}, 24)));
  c.set_customer_key(customer_key);
  c.set_category(category);
  c.set_state(v1::OPEN);
  c.set_opened_ms(t_ms_);
  c.set_updated_ms(t_ms_);
  c.set_queue(queue);
  c.set_channel(channel);
  c.set_score(score);
  if (!contact_id.empty()) c.add_contact_ids(contact_id);
  for (const std::string& tag : tags) AddSortedUnique(c.mutable_cues(), tag);
  c.set_severity(SeverityFor(config_, score, c.cues(), 0));
  const sla::Policy& policy = e_.policies_.PolicyFor(c.severity(), c.channel());
  c.set_policy(policy.name);
  Audit(
      &c, "opened", std::string(kSystemActor),
      absl::StrCat("severity ", v1::Severity_Name(c.severity()), ", score ", FractionText(score)));
  StartMilestones(&c, /*follow_up_only=*/false, t_ms_);
  AdvanceAll(&c, t_ms_);
  CC_RETURN_IF_ERROR(RescheduleCase(&c));

  v1::Alert& alert = NewAlert(v1::CASE_OPENED, HashId({"case_opened", c.case_id()}));
  alert.set_contact_id(contact_id);
  FillFromCase(alert, c);
  alert.set_score(score);
  *alert.mutable_reasons() = reasons;
  NewCaseOutcome(OutcomeKind::kCaseOpened, c);
  NewCaseOutcome(OutcomeKind::kOpenCasesDelta, c).delta = 1;
  NewCaseOutcome(OutcomeKind::kAlert, c).alert_kind = v1::CASE_OPENED;
  std::string case_id = c.case_id();
  CC_RETURN_IF_ERROR(store_.PutCase(std::move(c)));

  customer.add_open_case_ids(case_id);
  AddUnique(customer.mutable_case_ids(), case_id);
  CC_RETURN_IF_ERROR(MaybeScheduleCustomerExpiry(&customer));
  CC_RETURN_IF_ERROR(store_.PutCustomer(std::move(customer)));
  return case_id;
}

absl::Status EngineCall::UpdateCaseFromContact(const v1::ContactState& contact) {
  v1::ComplaintCase c;
  absl::StatusOr<bool> found = store_.ReadCase(contact.case_id(), c);
  if (!found.ok()) return found.status();
  if (!*found) return absl::OkStatus();
  if (!IsOpenState(c.state())) return absl::OkStatus();
  c.set_score(std::max(c.score(), contact.escalation_score()));
  for (const v1::AlertReason& reason : contact.cues())
    AddSortedUnique(c.mutable_cues(), reason.cue());
  for (const std::string& phrase : contact.phrase_classes()) {
    AddSortedUnique(c.mutable_cues(), absl::StrCat("phrase:", phrase));
  }
  const v1::Severity before = c.severity();
  RaiseSeverity(&c, SeverityFor(config_, c.score(), c.cues(), c.repeat_count()));
  if (c.severity() != before) {
    c.set_updated_ms(std::max(c.updated_ms(), t_ms_));
    AdvanceAll(&c, t_ms_);
    CC_RETURN_IF_ERROR(RescheduleCase(&c));
    v1::Alert& alert =
        NewAlert(v1::CASE_UPDATED,
                 HashId({"case_updated", c.case_id(), event_id_, v1::Severity_Name(c.severity())}));
    alert.set_contact_id(contact.contact_id());
    FillFromCase(alert, c);
    alert.set_score(contact.escalation_score());
    alert.set_repeat_count(c.repeat_count());
    *alert.mutable_reasons() = contact.cues();
    NewCaseOutcome(OutcomeKind::kAlert, c).alert_kind = v1::CASE_UPDATED;
  }
  return store_.PutCase(std::move(c));
}

absl::Status EngineCall::HandleLodged(const v1::ContactEvent& event) {
  const std::string customer_key = e_.CustomerKeyOf(event);
  absl::StatusOr<std::optional<v1::CustomerState>> customer = store_.GetCustomer(customer_key);
  if (!customer.ok()) return customer.status();
  RepeatedPtrField<v1::AlertReason> reasons;
  RepeatedPtrField<std::string> tags;
  v1::AlertReason* lodged = reasons.Add();
  lodged->set_cue(std::string(kCueComplaintLodged));
  lodged->set_value(1);
  lodged->set_weight(LodgedWeight(config_.cues()));
  *tags.Add() = std::string(kCueComplaintLodged);
  if (customer->has_value() && (*customer)->open_case_ids_size() > 0) {
    v1::AlertReason* open = reasons.Add();
    open->set_cue(std::string(kCueOpenComplaint));
    open->set_value((*customer)->open_case_ids_size());
    open->set_weight(config_.cues().has_open_complaint() ? config_.cues().open_complaint().weight()
                                                         : 0.3);
    *tags.Add() = std::string(kCueOpenComplaint);
  }
  double score = 0;
  for (const v1::AlertReason& reason : reasons) {
    score += reason.weight();
    Outcome& o = NewOutcome(OutcomeKind::kCueFired);
    o.queue = QueueLabel(event.queue());
    o.channel = event.channel();
    o.cue = reason.cue();
  }
  if (score + kScoreSlack < config_.open_case_score()) return absl::OkStatus();
  const std::string category = !event.complaint_lodged().category().empty()
                                   ? event.complaint_lodged().category()
                                   : CategoryForQueue(config_, event.queue());
  absl::StatusOr<std::string> case_id = OpenOrAttach(customer_key, category, score, reasons, tags,
                                                     event.queue(), event.channel(), "");
  return case_id.status();
}

absl::Status EngineCall::HandleSurvey(const v1::ContactEvent& event) {
  v1::ContactState contact;
  absl::StatusOr<bool> found = store_.ReadContact(event.contact_id(), contact);
  if (!found.ok()) return found.status();
  Outcome& o = NewOutcome(OutcomeKind::kCsatResponse);
  if (*found) {
    o.queue = QueueLabel(contact.queue());
    o.channel = contact.channel();
  } else {
    o.queue = QueueLabel(event.queue());
    o.channel = event.channel();
  }
  o.score = std::clamp(event.survey().csat(), 1, 5);
  o.value = o.score;
  return absl::OkStatus();
}

absl::Status EngineCall::HandleCaseAction(const v1::ContactEvent& event) {
  const v1::CaseAction& action = event.case_action();
  actor_ = action.actor().empty() ? std::string("unknown") : action.actor();
  absl::StatusOr<std::optional<v1::ComplaintCase>> loaded = store_.GetCase(action.case_id());
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    Outcome& o = NewOutcome(OutcomeKind::kUnknownCase);
    o.detail = std::string(CaseActionName(action.kind()));
    return absl::OkStatus();
  }
  v1::ComplaintCase c = std::move(**loaded);
  const v1::CaseState from = c.state();
  std::optional<v1::CaseState> next = NextState(from, action.kind(), c.awaiting_customer());

  // Reopening a closed case must not create a second open case of the same category.
  std::optional<v1::CustomerState> customer;
  if (next.has_value() && from == v1::CLOSED && *next == v1::REOPENED) {
    absl::StatusOr<std::optional<v1::CustomerState>> cs = store_.GetCustomer(c.customer_key());
    if (!cs.ok()) return cs.status();
    customer = cs->has_value() ? std::move(**cs) : v1::CustomerState();
    customer->set_customer_key(c.customer_key());
    for (const std::string& open_id : customer->open_case_ids()) {
      if (open_id == c.case_id()) continue;
      absl::StatusOr<std::optional<v1::ComplaintCase>> other = store_.GetCase(open_id);
      if (!other.ok()) return other.status();
      if (other->has_value() && (*other)->category() == c.category()) next.reset();
    }
  }

  const std::string action_name(CaseActionName(action.kind()));
  if (!next.has_value()) {
    c.set_invalid_transitions(c.invalid_transitions() + 1);
    Audit(&c, absl::StrCat("refused ", action_name), actor_,
          absl::StrCat("in state ", v1::CaseState_Name(from)));
    Outcome& o = NewCaseOutcome(OutcomeKind::kInvalidTransition, c);
    o.detail = action_name;
    return store_.PutCase(std::move(c));
  }

  // Raise whatever fell due before the action, at its time.
  AdvanceAll(&c, t_ms_);
  c.set_updated_ms(std::max(c.updated_ms(), t_ms_));
  c.set_state(*next);
  const std::string note_detail =
      action.note().empty() ? "" : absl::StrCat("note of ", action.note().size(), " bytes");
  if (*next != from) {
    Audit(&c, absl::StrCat("transition ", v1::CaseState_Name(*next)), actor_,
          note_detail.empty() ? absl::StrCat("from ", v1::CaseState_Name(from))
                              : absl::StrCat("from ", v1::CaseState_Name(from), ", ", note_detail));
    NewCaseOutcome(OutcomeKind::kCaseTransition, c).detail = action_name;
  } else {
    Audit(&c, absl::AsciiStrToLower(action_name), actor_, note_detail);
  }

  using sla::MilestoneKind;
  auto restart_keep_informed = [&]() {
    const sla::Policy& policy = CasePolicy(c);
    for (v1::MilestoneState& m : *c.mutable_milestones()) {
      const sla::MilestoneSpec* spec = policy.Find(m.name());
      if (spec == nullptr || spec->kind != MilestoneKind::kKeepInformed || m.completed()) continue;
      sla::RestartRecurring(m, *spec, e_.policies_.CalendarOf(*spec), t_ms_);
    }
  };
  switch (action.kind()) {
    case v1::CaseAction::ACKNOWLEDGE:
      CompleteKinds(&c, {MilestoneKind::kAcknowledge}, t_ms_);
      restart_keep_informed();
      break;
    case v1::CaseAction::START_INVESTIGATION:
    case v1::CaseAction::REFER:
    case v1::CaseAction::NOTE:
      restart_keep_informed();
      break;
    case v1::CaseAction::RESOLVE:
      CompleteKinds(
          &c, {MilestoneKind::kAcknowledge, MilestoneKind::kResolve, MilestoneKind::kKeepInformed},
          t_ms_);
      StartMilestones(&c, /*follow_up_only=*/true, t_ms_);
      break;
    case v1::CaseAction::FOLLOW_UP:
      CompleteKinds(&c, {MilestoneKind::kFollowUp}, t_ms_);
      break;
    case v1::CaseAction::CLOSE: {
      CompleteKinds(&c,
                    {MilestoneKind::kAcknowledge, MilestoneKind::kResolve,
                     MilestoneKind::kKeepInformed, MilestoneKind::kFollowUp},
                    t_ms_);
      c.set_closed_ms(t_ms_);
      c.set_awaiting_customer(false);
      NewCaseOutcome(OutcomeKind::kCaseClosed, c);
      NewCaseOutcome(OutcomeKind::kOpenCasesDelta, c).delta = -1;
      const int64_t due = t_ms_ + int64_t{config_.closed_case_retention_s()} * 1000;
      v1::Timer retention;
      retention.set_due_ms(due);
      retention.set_timer_id(absl::StrCat("case/", c.case_id(), "/retention/", due));
      retention.set_case_id(c.case_id());
      retention.set_milestone("retention");
      retention.set_kind(v1::CASE_RETENTION);
      CC_RETURN_IF_ERROR(AddTimer(c.mutable_timers(), std::move(retention)));
      if (!customer.has_value()) {
        absl::StatusOr<std::optional<v1::CustomerState>> cs = store_.GetCustomer(c.customer_key());
        if (!cs.ok()) return cs.status();
        if (cs->has_value()) customer = std::move(**cs);
      }
      if (customer.has_value()) RemoveValue(customer->mutable_open_case_ids(), c.case_id());
      break;
    }
    case v1::CaseAction::REOPEN:
      if (from == v1::CLOSED) {
        c.set_closed_ms(0);
        CC_RETURN_IF_ERROR(CancelTimers(
            c.mutable_timers(), [](const v1::Timer& t) { return t.kind() == v1::CASE_RETENTION; }));
        NewCaseOutcome(OutcomeKind::kOpenCasesDelta, c).delta = 1;
        if (customer.has_value()) {
          AddUnique(customer->mutable_open_case_ids(), c.case_id());
          AddUnique(customer->mutable_case_ids(), c.case_id());
        }
      }
      RestartForReopen(&c);
      break;
    case v1::CaseAction::AWAITING_CUSTOMER_ON: {
      c.set_awaiting_customer(true);
      const sla::Policy& policy = CasePolicy(c);
      for (v1::MilestoneState& m : *c.mutable_milestones()) {
        const sla::MilestoneSpec* spec = policy.Find(m.name());
        if (spec == nullptr || !spec->pausable) continue;
        sla::PauseMilestone(m, t_ms_);
      }
      break;
    }
    case v1::CaseAction::AWAITING_CUSTOMER_OFF: {
      c.set_awaiting_customer(false);
      const sla::Policy& policy = CasePolicy(c);
      for (v1::MilestoneState& m : *c.mutable_milestones()) {
        const sla::MilestoneSpec* spec = policy.Find(m.name());
        if (spec == nullptr) continue;
        sla::ResumeMilestone(m, *spec, e_.policies_.CalendarOf(*spec), t_ms_);
      }
      restart_keep_informed();
      break;
    }
    default:
      break;
  }
  AdvanceAll(&c, t_ms_);
  CC_RETURN_IF_ERROR(RescheduleCase(&c));
  CC_RETURN_IF_ERROR(store_.PutCase(std::move(c)));
  if (customer.has_value()) CC_RETURN_IF_ERROR(store_.PutCustomer(std::move(*customer)));
  return absl::OkStatus();
}

absl::Status EngineCall::DeleteCaseFully(v1::ComplaintCase* c) {
  CC_RETURN_IF_ERROR(CancelTimers(c->mutable_timers(), [](const v1::Timer&) { return true; }));
  return store_.DeleteCase(c->case_id());
}

absl::Status EngineCall::HandleErasure(const v1::ContactEvent& event) {
  const std::string customer_key = e_.CustomerKeyOf(event);
  absl::StatusOr<std::optional<v1::CustomerState>> loaded = store_.GetCustomer(customer_key);
  if (!loaded.ok()) return loaded.status();
  int removed = 0;
  std::vector<std::string> contact_ids;
  std::vector<std::string> case_ids;
  v1::CustomerState customer;
  if (loaded->has_value()) {
    customer = std::move(**loaded);
    contact_ids.assign(customer.contact_ids().begin(), customer.contact_ids().end());
    case_ids.assign(customer.case_ids().begin(), customer.case_ids().end());
    for (const std::string& id : customer.open_case_ids()) {
      if (std::find(case_ids.begin(), case_ids.end(), id) == case_ids.end()) case_ids.push_back(id);
    }
  }
  if (!event.contact_id().empty() &&
      std::find(contact_ids.begin(), contact_ids.end(), event.contact_id()) == contact_ids.end()) {
    contact_ids.push_back(event.contact_id());
  }
  for (const std::string& id : contact_ids) {
    absl::StatusOr<std::optional<v1::ContactState>> contact = store_.GetContact(id);
    if (!contact.ok()) return contact.status();
    if (!contact->has_value() || (*contact)->customer_key() != customer_key) continue;
    CC_RETURN_IF_ERROR(
        CancelTimers((*contact)->mutable_timers(), [](const v1::Timer&) { return true; }));
    CC_RETURN_IF_ERROR(store_.DeleteContact(id));
    ++removed;
  }
  for (const std::string& id : case_ids) {
    absl::StatusOr<std::optional<v1::ComplaintCase>> c = store_.GetCase(id);
    if (!c.ok()) return c.status();
    if (!c->has_value() || (*c)->customer_key() != customer_key) continue;
    if (IsOpenState((*c)->state())) NewCaseOutcome(OutcomeKind::kOpenCasesDelta, **c).delta = -1;
    CC_RETURN_IF_ERROR(DeleteCaseFully(&**c));
    ++removed;
  }
  if (loaded->has_value()) {
    CC_RETURN_IF_ERROR(
        CancelTimers(customer.mutable_timers(), [](const v1::Timer&) { return true; }));
    CC_RETURN_IF_ERROR(store_.DeleteCustomer(customer_key));
    ++removed;
  }
  Outcome& o = NewOutcome(OutcomeKind::kErasure);
  o.value = removed;
  return absl::OkStatus();
}

// ------------------------------------------------------------------------------------------
// SLA wiring

const sla::Policy& EngineCall::CasePolicy(const v1::ComplaintCase& c) const {
  for (const sla::Policy& policy : e_.policies_.policies()) {
    if (policy.name == c.policy()) return policy;
  }
  return e_.policies_.PolicyFor(c.severity(), c.channel());
}

void EngineCall::StartMilestones(v1::ComplaintCase* c, bool follow_up_only, int64_t at_ms) {
  const sla::Policy& policy = CasePolicy(*c);
  for (const sla::MilestoneSpec& spec : policy.milestones) {
    const bool is_follow_up = spec.kind == sla::MilestoneKind::kFollowUp;
    if (is_follow_up != follow_up_only) continue;
    v1::MilestoneState state = sla::StartMilestone(spec, e_.policies_.CalendarOf(spec), at_ms);
    state.set_name(spec.name);
    if (c->awaiting_customer() && spec.pausable) sla::PauseMilestone(state, at_ms);
    bool replaced = false;
    for (v1::MilestoneState& m : *c->mutable_milestones()) {
      if (m.name() == spec.name) {
        m = state;
        replaced = true;
      }
    }
    if (!replaced) *c->add_milestones() = std::move(state);
  }
}

void EngineCall::CompleteOne(v1::ComplaintCase* c, v1::MilestoneState* m, int64_t at_ms) {
  if (m->completed()) return;
  sla::CompleteMilestone(*m, at_ms);
  Outcome& o = NewCaseOutcome(m->met() ? OutcomeKind::kSlaMet : OutcomeKind::kSlaMissed, *c);
  o.milestone = m->name();
}

void EngineCall::CompleteKinds(v1::ComplaintCase* c,
                               std::initializer_list<sla::MilestoneKind> kinds, int64_t at_ms) {
  const sla::Policy& policy = CasePolicy(*c);
  for (v1::MilestoneState& m : *c->mutable_milestones()) {
    const sla::MilestoneSpec* spec = policy.Find(m.name());
    if (spec == nullptr) continue;
    if (std::find(kinds.begin(), kinds.end(), spec->kind) == kinds.end()) continue;
    CompleteOne(c, &m, at_ms);
  }
}

void EngineCall::AdvanceAll(v1::ComplaintCase* c, int64_t at_ms) {
  const sla::Policy& policy = CasePolicy(*c);
  for (v1::MilestoneState& m : *c->mutable_milestones()) {
    if (m.completed()) continue;
    const sla::MilestoneSpec* spec = policy.Find(m.name());
    if (spec == nullptr) continue;
    const std::vector<sla::Crossing> crossings =
        sla::Advance(m, *spec, e_.policies_.CalendarOf(*spec), at_ms);
    for (const sla::Crossing& crossing : crossings) {
      v1::AlertKind kind = v1::SLA_WARNING;
      OutcomeKind outcome = OutcomeKind::kSlaWarning;
      if (crossing.kind == sla::Crossing::Kind::kBreach) {
        kind = v1::SLA_BREACH;
        outcome = OutcomeKind::kSlaBreach;
      } else if (crossing.kind == sla::Crossing::Kind::kLadder) {
        kind = v1::SLA_ESCALATION;
        outcome = OutcomeKind::kSlaEscalation;
      }
      v1::Alert& alert =
          NewAlert(kind, HashId({"sla", c->case_id(), v1::AlertKind_Name(kind), m.name(),
                                 absl::StrCat(m.occurrence()), absl::StrCat(crossing.deadline_ms),
                                 FractionText(crossing.fraction), crossing.rung}));
      FillFromCase(alert, *c);
      alert.set_milestone(m.name());
      alert.set_deadline_ms(crossing.deadline_ms);
      alert.set_fraction(crossing.fraction);
      alert.set_rung(crossing.rung);
      alert.set_event_time_ms(crossing.at_ms);
      Outcome& o = NewCaseOutcome(outcome, *c);
      o.milestone = m.name();
      o.fraction = crossing.fraction;
      o.detail = crossing.rung;
      NewCaseOutcome(OutcomeKind::kAlert, *c).alert_kind = kind;
    }
  }
}

// A reopened case runs its acknowledge, keep-informed and resolve clocks afresh; a running
// follow-up is completed.
void EngineCall::RestartForReopen(v1::ComplaintCase* c) {
  const sla::Policy& policy = CasePolicy(*c);
  for (const sla::MilestoneSpec& spec : policy.milestones) {
    if (spec.kind == sla::MilestoneKind::kFollowUp) continue;
    for (int i = 0; i < c->milestones_size(); ++i) {
      if (c->milestones(i).name() == spec.name) {
        c->mutable_milestones()->erase(c->mutable_milestones()->begin() + i);
        break;
      }
    }
  }
  CompleteKinds(c, {sla::MilestoneKind::kFollowUp}, t_ms_);
  StartMilestones(c, /*follow_up_only=*/false, t_ms_);
}

absl::Status EngineCall::RescheduleCase(v1::ComplaintCase* c) {
  const sla::Policy& policy = CasePolicy(*c);
  std::vector<v1::Timer> desired;
  if (IsOpenState(c->state())) {
    for (const v1::MilestoneState& m : c->milestones()) {
      if (m.completed()) continue;
      const sla::MilestoneSpec* spec = policy.Find(m.name());
      if (spec == nullptr) continue;
      const std::optional<int64_t> due = sla::NextDue(m, *spec, e_.policies_.CalendarOf(*spec));
      if (!due.has_value()) continue;
      v1::Timer& timer = desired.emplace_back();
      timer.set_due_ms(*due);
      timer.set_timer_id(absl::StrCat("case/", c->case_id(), "/", m.name(), "/", *due));
      timer.set_case_id(c->case_id());
      timer.set_milestone(m.name());
      timer.set_kind(v1::CASE_MILESTONE);
    }
  }
  CC_RETURN_IF_ERROR(CancelTimers(c->mutable_timers(), [&desired](const v1::Timer& t) {
    if (t.kind() != v1::CASE_MILESTONE) return false;
    for (const v1::Timer& d : desired) {
      if (d.timer_id() == t.timer_id() && d.due_ms() == t.due_ms()) return false;
    }
    return true;
  }));
  for (v1::Timer& timer : desired) CC_RETURN_IF_ERROR(AddTimer(c->mutable_timers(), timer));
  return absl::OkStatus();
}

void EngineCall::MigratePolicy(v1::ComplaintCase* c, int64_t at_ms) {
  const sla::Policy& next = e_.policies_.PolicyFor(c->severity(), c->channel());
  if (next.name == c->policy()) return;
  const std::string previous_name = c->policy();
  RepeatedPtrField<v1::MilestoneState> old = std::move(*c->mutable_milestones());
  c->clear_milestones();
  c->set_policy(next.name);
  const bool before_resolution = c->state() == v1::OPEN || c->state() == v1::REOPENED ||
                                 c->state() == v1::ACKNOWLEDGED ||
                                 c->state() == v1::INVESTIGATING || c->state() == v1::REFERRED;
  for (const sla::MilestoneSpec& spec : next.milestones) {
    const sla::BusinessCalendar& cal = e_.policies_.CalendarOf(spec);
    const v1::MilestoneState* previous = nullptr;
    for (const v1::MilestoneState& m : old) {
      if (m.name() == spec.name) previous = &m;
    }
    if (previous != nullptr && previous->completed()) {
      *c->add_milestones() = *previous;
      continue;
    }
    v1::MilestoneState state;
    if (previous != nullptr) {
      state = sla::StartMilestone(spec, cal, previous->started_ms());
      *state.mutable_warnings_sent() = previous->warnings_sent();
      state.set_breached(previous->breached());
      state.set_ladder_rungs_sent(previous->ladder_rungs_sent());
      state.set_occurrence(previous->occurrence());
      sla::CarryPause(state, *previous, spec, cal);
    } else {
      const bool wanted =
          (spec.kind == sla::MilestoneKind::kFollowUp)
              ? (c->state() == v1::RESOLVED)
              : (before_resolution && (spec.kind != sla::MilestoneKind::kAcknowledge ||
                                       c->state() == v1::OPEN || c->state() == v1::REOPENED));
      if (!wanted) continue;
      state = sla::StartMilestone(spec, cal, c->opened_ms());
    }
    state.set_name(spec.name);
    if (c->awaiting_customer() && spec.pausable) sla::PauseMilestone(state, at_ms);
    *c->add_milestones() = std::move(state);
  }
  Audit(c, "policy " + next.name, std::string(kSystemActor), "from " + previous_name);
}

// ------------------------------------------------------------------------------------------
// Timers firing

absl::Status EngineCall::HandleTimer(const v1::Timer& timer) {
  t_ms_ = now_ms_;
  CC_RETURN_IF_ERROR(store_.DeleteTimer(timer));
  switch (timer.kind()) {
    case v1::CASE_MILESTONE: {
      absl::StatusOr<std::optional<v1::ComplaintCase>> loaded = store_.GetCase(timer.case_id());
      if (!loaded.ok()) return loaded.status();
      if (!loaded->has_value()) return absl::OkStatus();
      v1::ComplaintCase c = std::move(**loaded);
      if (!TakePending(c.mutable_timers(), timer)) return absl::OkStatus();
      AdvanceAll(&c, now_ms_);
      CC_RETURN_IF_ERROR(RescheduleCase(&c));
      return store_.PutCase(std::move(c));
    }
    case v1::CASE_RETENTION: {
      absl::StatusOr<std::optional<v1::ComplaintCase>> loaded = store_.GetCase(timer.case_id());
      if (!loaded.ok()) return loaded.status();
      if (!loaded->has_value()) return absl::OkStatus();
      v1::ComplaintCase c = std::move(**loaded);
      if (!TakePending(c.mutable_timers(), timer) || c.state() != v1::CLOSED) {
        return store_.PutCase(std::move(c));
      }
      NewCaseOutcome(OutcomeKind::kCaseExpired, c);
      CC_RETURN_IF_ERROR(DeleteCaseFully(&c));
      absl::StatusOr<std::optional<v1::CustomerState>> customer =
          store_.GetCustomer(c.customer_key());
      if (!customer.ok()) return customer.status();
      if (customer->has_value()) {
        RemoveValue((*customer)->mutable_case_ids(), c.case_id());
        RemoveValue((*customer)->mutable_open_case_ids(), c.case_id());
        CC_RETURN_IF_ERROR(MaybeScheduleCustomerExpiry(&**customer));
        CC_RETURN_IF_ERROR(store_.PutCustomer(std::move(**customer)));
      }
      return absl::OkStatus();
    }
    case v1::CONTACT_LIVE_SLA: {
      // Taken, changed and put back, or returned unchanged (no other read of it in between).
      v1::ContactState contact;
      absl::StatusOr<bool> found = store_.TakeContact(timer.contact_id(), contact);
      if (!found.ok()) return found.status();
      // Gone, or a timer the contact no longer holds: the contact goes back as it was.
      if (!*found || !TakePending(contact.mutable_timers(), timer)) {
        return store_.ReturnContact(timer.contact_id(), std::move(contact));
      }
      const int cues_before = contact.cues_size();
      bool breached = false;
      std::optional<std::pair<int64_t, double>> next;
      FireLiveClock(contact, timer, &breached, &next);
      if (next.has_value()) {
        CC_RETURN_IF_ERROR(ScheduleLiveStep(&contact, timer.milestone(), next->first,
                                            timer.deadline_ms(), next->second));
      }
      if (breached && timer.milestone() == kClockHold && contact.on_hold()) {
        CheckLongHold(&contact, now_ms_ - contact.hold_started_ms());
      }
      if (contact.cues_size() != cues_before) CC_RETURN_IF_ERROR(Evaluate(&contact));
      return store_.PutContact(std::move(contact));
    }
    case v1::CONTACT_EXPIRY: {
      absl::StatusOr<std::optional<v1::ContactState>> loaded =
          store_.GetContact(timer.contact_id());
      if (!loaded.ok()) return loaded.status();
      if (!loaded->has_value()) return absl::OkStatus();
      v1::ContactState contact = std::move(**loaded);
      if (!TakePending(contact.mutable_timers(), timer)) return absl::OkStatus();
      CC_RETURN_IF_ERROR(
          CancelTimers(contact.mutable_timers(), [](const v1::Timer&) { return true; }));
      CC_RETURN_IF_ERROR(store_.DeleteContact(contact.contact_id()));
      absl::StatusOr<std::optional<v1::CustomerState>> customer =
          store_.GetCustomer(contact.customer_key());
      if (!customer.ok()) return customer.status();
      if (customer->has_value()) {
        RemoveValue((*customer)->mutable_contact_ids(), contact.contact_id());
        CC_RETURN_IF_ERROR(MaybeScheduleCustomerExpiry(&**customer));
        CC_RETURN_IF_ERROR(store_.PutCustomer(std::move(**customer)));
      }
      return absl::OkStatus();
    }
    case v1::CUSTOMER_EXPIRY: {
      absl::StatusOr<std::optional<v1::CustomerState>> loaded =
          store_.GetCustomer(timer.customer_key());
      if (!loaded.ok()) return loaded.status();
      if (!loaded->has_value()) return absl::OkStatus();
      v1::CustomerState customer = std::move(**loaded);
      if (!TakePending(customer.mutable_timers(), timer)) return absl::OkStatus();
      if (customer.case_ids_size() == 0 && customer.contact_ids_size() == 0 &&
          customer.open_case_ids_size() == 0) {
        CC_RETURN_IF_ERROR(
            CancelTimers(customer.mutable_timers(), [](const v1::Timer&) { return true; }));
        return store_.DeleteCustomer(customer.customer_key());
      }
      return store_.PutCustomer(std::move(customer));
    }
    default:
      return absl::OkStatus();
  }
}

// ------------------------------------------------------------------------------------------
// Engine

Engine::Engine(const v1::DomainConfig& config, std::shared_ptr<const TextAnalyzer> analyzer,
               sla::SlaPolicies policies)
    : config_(config),
      analyzer_(std::move(analyzer)),
      policies_(std::move(policies)),
      pseudonymizer_(config.pseudonymisation_key()) {
  for (const std::string& id : config.anonymous_customer_ids()) {
    anonymous_customer_ids_.push_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(id)));
  }
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(
    const v1::DomainConfig& config, std::shared_ptr<const TextAnalyzer> analyzer) {
  const std::vector<ConfigProblem> problems = ValidateDomainConfig(config);
  if (!problems.empty()) {
    std::string message = "invalid domain configuration:";
    for (const ConfigProblem& p : problems) {
      absl::StrAppend(&message, " ", p.field_path, ": ", p.message, ";");
    }
    return absl::InvalidArgumentError(message);
  }
  if (analyzer == nullptr) return absl::InvalidArgumentError("no text analyzer");
  // The queue-wait clock runs on the service-level threshold (ValidateDomainConfig refuses a
  // second, different one in sla.live).
  v1::SlaConfig sla_config = config.sla();
  sla_config.mutable_live()->set_queue_wait_threshold_s(config.service_level_threshold_s());
  absl::StatusOr<sla::SlaPolicies> policies = sla::SlaPolicies::Create(sla_config);
  if (!policies.ok()) return policies.status();
  return std::unique_ptr<Engine>(new Engine(config, std::move(analyzer), std::move(*policies)));
}

absl::StatusOr<Effects> Engine::OnEvent(const v1::ContactEvent& event, int64_t now_ms,
                                        StateStore& store) const {
  EngineCall call(*this, store, now_ms);
  CC_RETURN_IF_ERROR(call.HandleEvent(event));
  return call.TakeEffects();
}

absl::StatusOr<Effects> Engine::OnTimer(const v1::Timer& timer, int64_t now_ms,
                                        StateStore& store) const {
  EngineCall call(*this, store, now_ms);
  CC_RETURN_IF_ERROR(call.HandleTimer(timer));
  return call.TakeEffects();
}

std::string Engine::CustomerKey(std::string_view raw_customer_id) const {
  return pseudonymizer_.Pseudonymize(raw_customer_id);
}

bool Engine::IsAnonymousCustomer(std::string_view raw_customer_id) const {
  if (anonymous_customer_ids_.empty()) return false;
  const std::string id = absl::AsciiStrToLower(absl::StripAsciiWhitespace(
      absl::string_view(raw_customer_id.data(), raw_customer_id.size())));
  return std::find(anonymous_customer_ids_.begin(), anonymous_customer_ids_.end(), id) !=
         anonymous_customer_ids_.end();
}

std::string Engine::CustomerKeyOf(const v1::ContactEvent& event) const {
  if (!IsAnonymousCustomer(event.customer_id())) return CustomerKey(event.customer_id());
  // The NUL bytes keep it apart from every customer id a source sends.
  return CustomerKey(
      absl::StrCat(absl::string_view("\0anonymous contact\0", 19), event.contact_id()));
}

}  // namespace ccstream::domain
