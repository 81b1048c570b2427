#pragma once

#include <string>
#include <string_view>

#include "alert.pb.h"
#include "case.pb.h"
#include "domain_config.pb.h"

namespace ccstream::domain {

// Names of the cues, as they appear in AlertReason.cue and metric labels.
inline constexpr std::string_view kCueRepeatedDissatisfaction = "repeated_dissatisfaction";
inline constexpr std::string_view kCueFallingSentiment = "falling_sentiment";
inline constexpr std::string_view kCueComplaintIntent = "complaint_intent";
inline constexpr std::string_view kCueEscalationPhrase = "escalation_phrase";
inline constexpr std::string_view kCueRaisedVoice = "raised_voice";
inline constexpr std::string_view kCueInterruptions = "interruptions";
inline constexpr std::string_view kCueLongHold = "long_hold";
inline constexpr std::string_view kCueRepeatedTransfers = "repeated_transfers";
inline constexpr std::string_view kCueRepeatContact = "repeat_contact";
inline constexpr std::string_view kCueOpenComplaint = "open_complaint";
inline constexpr std::string_view kCueStaffFlag = "staff_flag";
inline constexpr std::string_view kCueComplaintLodged = "complaint_lodged";

// Names of the live-contact clocks (Alert.milestone of LIVE_SLA_WARNING and LIVE_SLA_BREACH
// alerts; the names of SlaPolicies::LiveSpec).
inline constexpr std::string_view kClockQueueWait = "queue_wait";
inline constexpr std::string_view kClockChatFirstResponse = "chat_first_response";
inline constexpr std::string_view kClockSocialFirstResponse = "social_first_response";
inline constexpr std::string_view kClockHold = "hold";

// The severity a score and the tags of a case (cue names and "phrase:<class>") call for, before
// the rule that severity never falls. Exposed for tests.
v1::Severity SeverityFor(const v1::DomainConfig& config, double score,
                         const google::protobuf::RepeatedPtrField<std::string>& tags,
                         int repeat_count);

// The complaint category of a queue: its configured category, else the queue name when the
// queue is known (or no queue list is configured), else the default category.
std::string CategoryForQueue(const v1::DomainConfig& config, std::string_view queue);

}  // namespace ccstream::domain
