#include "tests/support/event_builders.h"

namespace ccstream::testing {
namespace {

v1::ContactEvent Envelope(const ContactRef& ref, int64_t t_ms, const char* payload) {
  v1::ContactEvent event;
  event.set_event_id(ref.contact_id + "/" + payload + "/" + std::to_string(t_ms));
  event.set_contact_id(ref.contact_id);
  event.set_customer_id(ref.customer_id);
  event.set_channel(ref.channel);
  event.set_queue(ref.queue);
  event.set_agent_id(ref.agent_id);
  event.set_event_time_ms(t_ms);
  return event;
}

}  // namespace

v1::ContactEvent MakeQueued(const ContactRef& ref, int64_t t_ms) {
  v1::ContactEvent event = Envelope(ref, t_ms, "queued");
  event.mutable_queued();
  return event;
}

v1::ContactEvent MakeAnswered(const ContactRef& ref, int64_t t_ms) {
  v1::ContactEvent event = Envelope(ref, t_ms, "answered");
  event.mutable_answered();
  return event;
}

v1::ContactEvent MakeTurn(const ContactRef& ref, int64_t t_ms, const TurnSpec& spec) {
  v1::ContactEvent event = Envelope(ref, t_ms, "turn");
  v1::Turn* turn = event.mutable_turn();
  turn->set_speaker(spec.speaker);
  turn->set_text(spec.text);
  if (spec.upstream_sentiment.has_value()) turn->set_upstream_sentiment(*spec.upstream_sentiment);
  if (spec.loudness_db.has_value()) turn->set_loudness_db(*spec.loudness_db);
  turn->set_interruption(spec.interruption);
  return event;
}

v1::ContactEvent MakeCustomerTurn(const ContactRef& ref, int64_t t_ms, float sentiment) {
  TurnSpec spec;
  spec.upstream_sentiment = sentiment;
  return MakeTurn(ref, t_ms, spec);
}

v1::ContactEvent MakeAgentTurn(const ContactRef& ref, int64_t t_ms) {
  TurnSpec spec;
  spec.speaker = v1::AGENT;
  spec.text = "How can I help?";
  return MakeTurn(ref, t_ms, spec);
}

v1::ContactEvent MakeHoldStarted(const ContactRef& ref, int64_t t_ms) {
  v1::ContactEvent event = Envelope(ref, t_ms, "hold_started");
  event.mutable_hold_started();
  return event;
}

v1::ContactEvent MakeHoldEnded(const ContactRef& ref, int64_t t_ms) {
  v1::ContactEvent event = Envelope(ref, t_ms, "hold_ended");
  event.mutable_hold_ended();
  return event;
}

v1::ContactEvent MakeTransferred(const ContactRef& ref, int64_t t_ms, const std::string& to_queue) {
  v1::ContactEvent event = Envelope(ref, t_ms, "transferred");
  event.mutable_transferred()->set_to_queue(to_queue);
  return event;
}

v1::ContactEvent MakeAbandoned(const ContactRef& ref, int64_t t_ms) {
  v1::ContactEvent event = Envelope(ref, t_ms, "abandoned");
  event.mutable_abandoned();
  return event;
}

v1::ContactEvent MakeEnded(const ContactRef& ref, int64_t t_ms, bool resolved) {
  v1::ContactEvent event = Envelope(ref, t_ms, "ended");
  event.mutable_ended()->set_resolved(resolved);
  return event;
}

v1::ContactEvent MakeSurvey(const ContactRef& ref, int64_t t_ms, int csat) {
  v1::ContactEvent event = Envelope(ref, t_ms, "survey");
  event.mutable_survey()->set_csat(csat);
  return event;
}

v1::ContactEvent MakeCaseAction(const ContactRef& ref, int64_t t_ms, v1::CaseAction::Kind kind,
                                const std::string& case_id, const std::string& actor,
                                const std::string& note) {
  v1::ContactEvent event = Envelope(ref, t_ms, "case_action");
  event.set_event_id(event.event_id() + "/" + v1::CaseAction::Kind_Name(kind));
  v1::CaseAction* action = event.mutable_case_action();
  action->set_kind(kind);
  action->set_case_id(case_id);
  action->set_actor(actor);
  action->set_note(note);
  return event;
}

v1::ContactEvent MakeFlagComplaint(const ContactRef& ref, int64_t t_ms, const std::string& category,
                                   const std::string& actor) {
  v1::ContactEvent event = Envelope(ref, t_ms, "flag_complaint");
  v1::CaseAction* action = event.mutable_case_action();
  action->set_kind(v1::CaseAction::FLAG_COMPLAINT);
  action->set_actor(actor);
  action->set_category(category);
  return event;
}

v1::ContactEvent MakeComplaintLodged(const ContactRef& ref, int64_t t_ms,
                                     const std::string& category) {
  v1::ContactEvent event = Envelope(ref, t_ms, "complaint_lodged");
  event.mutable_complaint_lodged()->set_category(category);
  return event;
}

v1::ContactEvent MakeErasure(const ContactRef& ref, int64_t t_ms, const std::string& requested_by) {
  v1::ContactEvent event = Envelope(ref, t_ms, "erasure");
  event.mutable_erasure_request()->set_requested_by(requested_by);
  return event;
}

}  // namespace ccstream::testing
