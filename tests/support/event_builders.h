#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "events.pb.h"

namespace ccstream::testing {

// Which contact an event belongs to. Plain value type.
struct ContactRef {
  std::string contact_id = "contact-1";
  std::string customer_id = "customer-1";  // raw id, as on the wire
  std::string queue = "billing";
  v1::Channel channel = v1::VOICE;
  std::string agent_id = "agent-1";
};

// Options of a turn. Plain value type.
struct TurnSpec {
  v1::Speaker speaker = v1::CUSTOMER;
  std::string text;
  std::optional<float> upstream_sentiment;
  std::optional<float> loudness_db;
  bool interruption = false;
};

// Builders of valid ContactEvents. Event ids are deterministic:
// "<contact_id>/<payload>/<time_ms>" plus `suffix` when given.
v1::ContactEvent MakeQueued(const ContactRef& ref, int64_t t_ms);
v1::ContactEvent MakeAnswered(const ContactRef& ref, int64_t t_ms);
v1::ContactEvent MakeTurn(const ContactRef& ref, int64_t t_ms, const TurnSpec& turn);
// A customer turn with an upstream sentiment and no text.
v1::ContactEvent MakeCustomerTurn(const ContactRef& ref, int64_t t_ms, float sentiment);
v1::ContactEvent MakeAgentTurn(const ContactRef& ref, int64_t t_ms);
v1::ContactEvent MakeHoldStarted(const ContactRef& ref, int64_t t_ms);
v1::ContactEvent MakeHoldEnded(const ContactRef& ref, int64_t t_ms);
v1::ContactEvent MakeTransferred(const ContactRef& ref, int64_t t_ms,
                                 const std::string& to_queue = "");
v1::ContactEvent MakeAbandoned(const ContactRef& ref, int64_t t_ms);
v1::ContactEvent MakeEnded(const ContactRef& ref, int64_t t_ms, bool resolved = false);
v1::ContactEvent MakeSurvey(const ContactRef& ref, int64_t t_ms, int csat);
v1::ContactEvent MakeCaseAction(const ContactRef& ref, int64_t t_ms, v1::CaseAction::Kind kind,
                                const std::string& case_id, const std::string& actor = "lead-1",
                                const std::string& note = "");
v1::ContactEvent MakeFlagComplaint(const ContactRef& ref, int64_t t_ms,
                                   const std::string& category = "",
                                   const std::string& actor = "agent-1");
v1::ContactEvent MakeComplaintLodged(const ContactRef& ref, int64_t t_ms,
                                     const std::string& category = "");
v1::ContactEvent MakeErasure(const ContactRef& ref, int64_t t_ms,
                             const std::string& requested_by = "dpo");

}  // namespace ccstream::testing
