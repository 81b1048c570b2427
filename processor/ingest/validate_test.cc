#include "processor/ingest/validate.h"

#include <functional>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace ccstream::ingest {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;  // 2023-11-14

v1::ContactEvent GoodEvent() {
  v1::ContactEvent e;
  e.set_event_id("e-1");
  e.set_contact_id("c-1");
  e.set_customer_id("cust-1");
  e.set_channel(v1::VOICE);
  e.set_queue("billing");
  e.set_event_time_ms(kNow - 1000);
  e.mutable_queued();
  return e;
}

struct Case {
  std::string name;
  std::function<void(v1::ContactEvent&)> mutate;
  RefusalReason want;
};

class ValidateTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateTest, GivesTheExpectedVerdict) {
  v1::ContactEvent event = GoodEvent();
  GetParam().mutate(event);
  const std::string bytes = event.SerializeAsString();
  v1::ContactEvent decoded;
  const Verdict verdict = DecodeAndValidate(bytes, kNow, ValidationLimits{}, &decoded);
  EXPECT_EQ(RefusalReasonName(verdict.reason), RefusalReasonName(GetParam().want))
      << verdict.detail;
  EXPECT_EQ(verdict.ok(), verdict.detail.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidateTest,
    ::testing::Values(
        Case{"valid", [](auto&) {}, RefusalReason::kNone},
        Case{"missing_event_id", [](auto& e) { e.clear_event_id(); },
             RefusalReason::kMissingEventId},
        Case{"missing_contact_id", [](auto& e) { e.clear_contact_id(); },
             RefusalReason::kMissingContactId},
        Case{"missing_customer_id", [](auto& e) { e.clear_customer_id(); },
             RefusalReason::kMissingCustomerId},
        Case{"missing_time", [](auto& e) { e.clear_event_time_ms(); },
             RefusalReason::kMissingEventTime},
        Case{"time_1999", [](auto& e) { e.set_event_time_ms(kMinEventTimeMs - 1); },
             RefusalReason::kEventTimeTooOld},
        Case{"time_2000_exactly", [](auto& e) { e.set_event_time_ms(kMinEventTimeMs); },
             RefusalReason::kNone},
        Case{"negative_time", [](auto& e) { e.set_event_time_ms(-5); },
             RefusalReason::kEventTimeTooOld},
        Case{"future_beyond_skew", [](auto& e) { e.set_event_time_ms(kNow + 300'001); },
             RefusalReason::kEventTimeInFuture},
        Case{"future_within_skew", [](auto& e) { e.set_event_time_ms(kNow + 300'000); },
             RefusalReason::kNone},
        Case{"no_payload", [](auto& e) { e.clear_payload(); }, RefusalReason::kUnknownPayload},
        Case{"unknown_channel", [](auto& e) { e.set_channel(static_cast<v1::Channel>(42)); },
             RefusalReason::kInvalidField},
        Case{"unset_channel_on_contact_event",
             [](auto& e) { e.set_channel(v1::CHANNEL_UNSPECIFIED); }, RefusalReason::kInvalidField},
        Case{"unset_channel_on_case_action",
             [](auto& e) {
               e.set_channel(v1::CHANNEL_UNSPECIFIED);
               auto* a = e.mutable_case_action();
               a->set_kind(v1::CaseAction::ACKNOWLEDGE);
               a->set_case_id("case-1");
               a->set_actor("lead-7");
             },
             RefusalReason::kNone},
        Case{"case_action_without_case",
             [](auto& e) {
               auto* a = e.mutable_case_action();
               a->set_kind(v1::CaseAction::RESOLVE);
               a->set_actor("lead-7");
             },
             RefusalReason::kInvalidField},
        Case{"flag_complaint_without_case",
             [](auto& e) {
               auto* a = e.mutable_case_action();
               a->set_kind(v1::CaseAction::FLAG_COMPLAINT);
               a->set_actor("agent-3");
             },
             RefusalReason::kNone},
        Case{"case_action_unknown_kind",
             [](auto& e) {
               auto* a = e.mutable_case_action();
               a->set_kind(static_cast<v1::CaseAction::Kind>(99));
               a->set_case_id("case-1");
               a->set_actor("lead-7");
             },
             RefusalReason::kInvalidField},
        Case{"case_action_without_actor",
             [](auto& e) {
               auto* a = e.mutable_case_action();
               a->set_kind(v1::CaseAction::NOTE);
               a->set_case_id("case-1");
             },
             RefusalReason::kInvalidField},
        Case{"csat_zero", [](auto& e) { e.mutable_survey()->set_csat(0); },
             RefusalReason::kInvalidField},
        Case{"csat_six", [](auto& e) { e.mutable_survey()->set_csat(6); },
             RefusalReason::kInvalidField},
        Case{"csat_five", [](auto& e) { e.mutable_survey()->set_csat(5); }, RefusalReason::kNone},
        Case{"turn_without_speaker", [](auto& e) { e.mutable_turn()->set_text("hi"); },
             RefusalReason::kInvalidField},
        Case{"turn_sentiment_out_of_range",
             [](auto& e) {
               auto* t = e.mutable_turn();
               t->set_speaker(v1::CUSTOMER);
               t->set_upstream_sentiment(1.5f);
             },
             RefusalReason::kInvalidField},
        Case{"turn_ok",
             [](auto& e) {
               auto* t = e.mutable_turn();
               t->set_speaker(v1::CUSTOMER);
               t->set_text("this is the third time I call");
               t->set_upstream_sentiment(-0.8f);
               t->set_loudness_db(71.5f);
             },
             RefusalReason::kNone}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(DecodeAndValidate, RefusesBytesThatAreNotAnEvent) {
  v1::ContactEvent event;
  const Verdict verdict =
      DecodeAndValidate(std::string("\xff\xff\xff\xff garbage", 12), kNow, {}, &event);
  EXPECT_EQ(verdict.reason, RefusalReason::kUndecodable);
  EXPECT_FALSE(verdict.detail.empty());
}

TEST(DecodeAndValidate, RefusesOversizedRecordsBeforeDecoding) {
  v1::ContactEvent good = GoodEvent();
  good.mutable_turn()->set_speaker(v1::CUSTOMER);
  good.mutable_turn()->set_text(std::string(2 << 20, 'a'));
  v1::ContactEvent event;
  const Verdict verdict = DecodeAndValidate(good.SerializeAsString(), kNow, {}, &event);
  EXPECT_EQ(verdict.reason, RefusalReason::kOversized);
  ValidationLimits big;
  big.max_message_bytes = 4u << 20;
  EXPECT_TRUE(DecodeAndValidate(good.SerializeAsString(), kNow, big, &event).ok());
}

TEST(DecodeAndValidate, RefusesAPayloadFromANewerSchemaAsUnknownPayload) {
  v1::ContactEvent good = GoodEvent();
  good.clear_payload();
  std::string bytes = good.SerializeAsString();
  // Field 99, length-delimited, 2 bytes: a payload this version does not know.
  bytes += std::string("\x9a\x06\x02\x08\x01", 5);
  v1::ContactEvent event;
  const Verdict verdict = DecodeAndValidate(bytes, kNow, {}, &event);
  EXPECT_EQ(verdict.reason, RefusalReason::kUnknownPayload);
  EXPECT_NE(verdict.detail.find("does not know"), std::string::npos) << verdict.detail;
}

TEST(RefusalReasonName, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (int r = 0; r <= static_cast<int>(RefusalReason::kInvalidField); ++r) {
    names.insert(RefusalReasonName(static_cast<RefusalReason>(r)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(RefusalReason::kInvalidField) + 1);
}

}  // namespace
}  // namespace ccstream::ingest
