#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "processor/domain/engine.h"
#include "processor/domain/test_util.h"

namespace ccstream::domain {
namespace {

struct ValidationCase {
  std::string name;
  std::function<void(v1::DomainConfig&)> mutate;
  std::string expected_path;  // empty: valid
};

class ValidateDomainConfigTest : public ::testing::TestWithParam<ValidationCase> {};

TEST_P(ValidateDomainConfigTest, ReportsTheFieldAtFault) {
  v1::DomainConfig config = testing_util::TestConfig();
  GetParam().mutate(config);
  const std::vector<ConfigProblem> problems = ValidateDomainConfig(config);
  if (GetParam().expected_path.empty()) {
    for (const ConfigProblem& p : problems) ADD_FAILURE() << p.field_path << ": " << p.message;
    return;
  }
  bool found = false;
  for (const ConfigProblem& p : problems) {
    found |= p.field_path == GetParam().expected_path;
    EXPECT_FALSE(p.message.empty());
  }
  EXPECT_TRUE(found) << "expected a problem at " << GetParam().expected_path << ", got "
                     << problems.size();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ValidateDomainConfigTest,
    ::testing::Values(
        ValidationCase{"valid", [](v1::DomainConfig&) {}, ""},
        ValidationCase{"missing_key", [](v1::DomainConfig& c) { c.clear_pseudonymisation_key(); },
                       "pseudonymisation_key"},
        ValidationCase{
            "negative_weight",
            [](v1::DomainConfig& c) { c.mutable_cues()->mutable_raised_voice()->set_weight(-1); },
            "cues.raised_voice.weight"},
        ValidationCase{"dissatisfaction_min_above_window",
                       [](v1::DomainConfig& c) {
                         c.mutable_cues()->mutable_repeated_dissatisfaction()->set_min_turns(9);
                       },
                       "cues.repeated_dissatisfaction.min_turns"},
        ValidationCase{
            "sentiment_out_of_range",
            [](v1::DomainConfig& c) {
              c.mutable_cues()->mutable_repeated_dissatisfaction()->set_sentiment_at_most(-2);
            },
            "cues.repeated_dissatisfaction.sentiment_at_most"},
        ValidationCase{"probability_out_of_range",
                       [](v1::DomainConfig& c) {
                         c.mutable_cues()->mutable_complaint_intent()->set_min_probability(1.5);
                       },
                       "cues.complaint_intent.min_probability"},
        ValidationCase{"open_below_escalate",
                       [](v1::DomainConfig& c) {
                         c.set_escalate_score(2);
                         c.set_open_case_score(1);
                       },
                       "open_case_score"},
        ValidationCase{"severity_order",
                       [](v1::DomainConfig& c) { c.mutable_severity()->set_high_score(0.5); },
                       "severity.high_score"},
        ValidationCase{"duplicate_queue",
                       [](v1::DomainConfig& c) {
                         c.add_queues()->set_name("billing");
                         c.add_queues()->set_name("billing");
                       },
                       "queues[1].name"},
        ValidationCase{"empty_queue_name",
                       [](v1::DomainConfig& c) { c.add_queues()->set_category("x"); },
                       "queues[0].name"},
        ValidationCase{"zero_threshold",
                       [](v1::DomainConfig& c) { c.set_service_level_threshold_s(0); },
                       "service_level_threshold_s"},
        ValidationCase{"queue_wait_same_as_service_level",
                       [](v1::DomainConfig& c) {
                         c.set_service_level_threshold_s(30);
                         c.mutable_sla()->mutable_live()->set_queue_wait_threshold_s(30);
                       },
                       ""},
        ValidationCase{"queue_wait_differs_from_service_level",
                       [](v1::DomainConfig& c) {
                         c.mutable_sla()->mutable_live()->set_queue_wait_threshold_s(30);
                       },
                       "sla.live.queue_wait_threshold_s"},
        ValidationCase{"sla_prefixed",
                       [](v1::DomainConfig& c) {
                         c.mutable_sla()->mutable_policies(0)->mutable_milestones(0)->clear_kind();
                       },
                       "sla.policies[0].milestones[0].kind"},
        ValidationCase{"anonymous_ids",
                       [](v1::DomainConfig& c) {
                         c.add_anonymous_customer_ids("anonymous");
                         c.add_anonymous_customer_ids(" Unknown ");
                       },
                       ""},
        ValidationCase{"blank_anonymous_id",
                       [](v1::DomainConfig& c) {
                         c.add_anonymous_customer_ids("anonymous");
                         c.add_anonymous_customer_ids("  ");
                       },
                       "anonymous_customer_ids[1]"},
        ValidationCase{"too_many_anonymous_ids",
                       [](v1::DomainConfig& c) {
                         for (int i = 0; i < 101; ++i) {
                           c.add_anonymous_customer_ids("id-" + std::to_string(i));
                         }
                       },
                       "anonymous_customer_ids"},
        ValidationCase{"text_prefixed",
                       [](v1::DomainConfig& c) {
                         c.mutable_text()->add_phrase_patterns()->set_phrase_class("nonsense");
                       },
                       "text.phrase_patterns[0].phrase_class"}),
    [](const ::testing::TestParamInfo<ValidationCase>& info) { return info.param.name; });

}  // namespace
}  // namespace ccstream::domain
