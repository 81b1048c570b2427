#include "processor/domain/text/phrases.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace ccstream::domain::text {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr PhraseClass kManager = PhraseClass::kManagerRequest;
constexpr PhraseClass kChurn = PhraseClass::kChurnThreat;
constexpr PhraseClass kLegal = PhraseClass::kRegulatorOrLegal;
constexpr PhraseClass kRepeat = PhraseClass::kRepeatContact;

PhraseMatches Of(std::initializer_list<PhraseClass> classes) {
  PhraseMatches matches;
  for (PhraseClass c : classes) matches.Add(c);
  return matches;
}

std::string Describe(const PhraseMatches& matches) {
  std::string out = "{";
  for (PhraseClass c : matches.Classes()) {
    if (out.size() > 1) out += ", ";
    out += PhraseClassName(c);
  }
  return out + "}";
}

v1::TextConfig ParseConfig(const std::string& text) {
  v1::TextConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

struct MatchCase {
  std::string text;
  PhraseMatches expected;
};

TEST(EscalationPhraseMatcherTest, DefaultPatterns) {
  const MatchCase cases[] = {
      // manager_request
      {"I want to speak to a manager", Of({kManager})},
      {"Can I talk to your manager please", Of({kManager})},
      {"put me through to a supervisor", Of({kManager})},
      {"SUPERVISOR. NOW.", Of({kManager})},
      {"is there someone in charge there?", Of({kManager})},
      {"I need someone more senior to look at this", Of({kManager})},
      {"please escalate this", Of({kManager})},
      {"I want this escalated today", Of({kManager})},
      {"I demand a manager", Of({kManager})},
      {"let me speak to someone else", Of({kManager})},
      {"my inbox is manageable today", Of({})},
      {"our account manager emailed me", Of({})},
      {"the management of the store was great", Of({})},
      {"i am the manager of a small shop", Of({})},
      // churn_threat
      {"I'm going to cancel my account", Of({kChurn})},
      {"cancel my contract now", Of({kChurn})},
      {"please cancel my Netflix subscription", Of({kChurn})},
      {"I will be cancelling my membership", Of({kChurn})},
      {"close my account today", Of({kChurn})},
      {"I'm switching to Vodafone", Of({kChurn})},
      {"switching providers next month", Of({kChurn})},
      {"I'll switch to BT", Of({kChurn})},
      {"can I switch to the annual plan?", Of({})},
      {"my account was switched to a new system", Of({})},
      {"I'm going to leave you guys", Of({kChurn})},
      {"I am leaving you for another bank", Of({kChurn})},
      {"time to leave you.", Of({kChurn})},
      {"I'll take my business elsewhere", Of({kChurn})},
      {"looking for a new provider", Of({kChurn})},
      {"never flying with you again", Of({kChurn})},
      {"I'll never use you again", Of({kChurn})},
      {"cancel my order please, it was a mistake", Of({})},
      {"my flight was cancelled", Of({})},
      {"how do I switch on roaming", Of({})},
      {"the light switch is broken", Of({})},
      {"I will leave you a review", Of({})},
      // regulator_or_legal
      {"I'm taking this to the ombudsman", Of({kLegal})},
      {"I will report you to the regulator", Of({kLegal})},
      {"complaint filed with the FCA", Of({kLegal})},
      {"I've filed with the CFPB", Of({kLegal})},
      {"reporting this to the BBB", Of({kLegal})},
      {"Ofcom will hear about this", Of({kLegal})},
      {"my lawyer will be in touch", Of({kLegal})},
      {"speaking to my solicitor", Of({kLegal})},
      {"I have an attorney", Of({kLegal})},
      {"I will sue you", Of({kLegal})},
      {"considering legal action", Of({kLegal})},
      {"see you in small claims", Of({kLegal})},
      {"see you in court", Of({kLegal})},
      {"this deserves a class action lawsuit", Of({kLegal})},
      {"my name is Sue", Of({kLegal})},  // Documented false positive: "sue" is also a name.
      {"this is illegal", Of({})},
      {"the pursued parcel arrived", Of({})},
      {"fcast results", Of({})},
      {"a regular customer", Of({})},
      // repeat_contact
      {"this is the third time I've called", Of({kRepeat})},
      {"third time I called about this", Of({kRepeat})},
      {"5th time this month!", Of({kRepeat})},
      {"that's the 22nd time", Of({kRepeat})},
      {"second time I've called today", Of({kRepeat})},
      {"I have called three times", Of({kRepeat})},
      {"I've called you 4 times", Of({kRepeat})},
      {"emailed twice already", Of({kRepeat})},
      {"it happens again and again", Of({kRepeat})},
      {"over and over again", Of({kRepeat})},
      {"still not fixed", Of({kRepeat})},
      {"it still isn't working", Of({kRepeat})},
      {"still no refund", Of({kRepeat})},
      {"I keep calling and nobody answers", Of({kRepeat})},
      {"I already reported this", Of({kRepeat})},
      {"after 6 calls nothing", Of({kRepeat})},
      {"my second time flying with you, loved it", Of({})},
      {"2nd time in 3 years", Of({})},
      {"11th time in a month", Of({kRepeat})},
      {"first time caller", Of({})},
      {"the timetable is still fine", Of({})},
      {"I will call again tomorrow", Of({})},
      // several classes, curly apostrophes, punctuation around phrases
      {"Third time I\xE2\x80\x99ve called! Get me a supervisor or I\xE2\x80\x99ll cancel my "
       "account.",
       Of({kManager, kChurn, kRepeat})},
      {"(ombudsman)", Of({kLegal})},
      {"Supervisor!!!", Of({kManager})},
      {"", Of({})},
      {"thank you, all sorted now", Of({})},
  };
  const EscalationPhraseMatcher& matcher = EscalationPhraseMatcher::Default();
  for (const MatchCase& c : cases) {
    const PhraseMatches matches = matcher.Match(c.text);
    EXPECT_EQ(matches, c.expected)
        << c.text << ": got " << Describe(matches) << ", want " << Describe(c.expected);
  }
}

TEST(EscalationPhraseMatcherTest, DefaultIsOneInstanceAndMatchesConsistentlyAcrossThreads) {
  EXPECT_EQ(&EscalationPhraseMatcher::Default(), &EscalationPhraseMatcher::Default());
  const std::string texts[] = {"third time I've called, get me a supervisor",
                               "I'll see you in court", "thanks, all sorted"};
  const PhraseMatches expected[] = {Of({kManager, kRepeat}), Of({kLegal}), Of({})};
  std::vector<std::thread> threads;
  std::vector<int> failures(4);
  for (size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3000; ++i) {
        failures[t] += EscalationPhraseMatcher::Default().Match(texts[i % 3]) != expected[i % 3];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int count : failures) EXPECT_EQ(count, 0);
}

TEST(EscalationPhraseMatcherTest, FindsPhrasesAtTheEndOfLongTexts) {
  std::string text;
  for (int i = 0; text.size() < 200000; ++i) {
    text += "word" + std::to_string(i * 7919 % 100000) + (i % 7 == 0 ? ", " : " ");
  }
  EXPECT_EQ(EscalationPhraseMatcher::Default().Match(text), Of({}));
  text += "so see you in court";
  EXPECT_EQ(EscalationPhraseMatcher::Default().Match(text), Of({kLegal}));
}

// The matcher first asks the set whether anything matches (which stops at the first match) and
// only then which patterns do: a match early in the text must not hide the later ones.
TEST(EscalationPhraseMatcherTest, ReportsLaterClassesAfterAnEarlyMatch) {
  const EscalationPhraseMatcher& matcher = EscalationPhraseMatcher::Default();
  EXPECT_EQ(matcher.Match("Supervisor now. This is the third time I've called, I will cancel my "
                          "contract and go to the ombudsman"),
            Of({kManager, kRepeat, kChurn, kLegal}));
  EXPECT_EQ(matcher.Match("ombudsman"), Of({kLegal}));
  EXPECT_EQ(matcher.Match("the ombudsmans office"), Of({}));
  EXPECT_EQ(matcher.Match(""), Of({}));
}

TEST(EscalationPhraseMatcherTest, ClassNamesRoundTrip) {
  std::vector<std::string_view> names;
  for (PhraseClass c : kAllPhraseClasses) {
    names.push_back(PhraseClassName(c));
    PhraseClass parsed;
    ASSERT_TRUE(ParsePhraseClass(PhraseClassName(c), &parsed));
    EXPECT_EQ(parsed, c);
  }
  EXPECT_THAT(names, ElementsAre("manager_request", "churn_threat", "regulator_or_legal",
                                 "repeat_contact"));
  PhraseClass parsed;
  EXPECT_FALSE(ParsePhraseClass("Manager_Request", &parsed));
  EXPECT_FALSE(ParsePhraseClass("", &parsed));
}

TEST(PhraseMatchesTest, MaskHelpers) {
  PhraseMatches matches;
  EXPECT_FALSE(matches.Any());
  EXPECT_THAT(matches.Classes(), IsEmpty());
  matches.Add(kRepeat);
  matches.Add(kManager);
  EXPECT_TRUE(matches.Any());
  EXPECT_TRUE(matches.Has(kRepeat));
  EXPECT_TRUE(matches.Has(kManager));
  EXPECT_FALSE(matches.Has(kChurn));
  EXPECT_EQ(matches.mask, (1u << 0) | (1u << 3));
  EXPECT_THAT(matches.Classes(), ElementsAre(kManager, kRepeat));
}

TEST(EscalationPhraseMatcherTest, ConfiguredPatternsReplaceOnlyTheirClass) {
  absl::StatusOr<EscalationPhraseMatcher> matcher =
      EscalationPhraseMatcher::Create(ParseConfig(R"pb(
        phrase_patterns { phrase_class: "manager_request" patterns: "team\\s+leader" }
        phrase_patterns { phrase_class: "manager_request" patterns: "head\\s+office" }
        phrase_patterns { phrase_class: "churn_threat" }
      )pb"));
  ASSERT_TRUE(matcher.ok()) << matcher.status();
  const MatchCase cases[] = {
      {"put me through to your TEAM LEADER", Of({kManager})},
      {"I'll write to head office", Of({kManager})},
      {"I want a supervisor", Of({})},         // Built-in manager patterns replaced.
      {"the team leaders are great", Of({})},  // Word boundary after the pattern.
      {"cancel my account", Of({kChurn})},     // No patterns given: built-ins apply.
      {"see you in court", Of({kLegal})},      // Class not configured: built-ins apply.
      {"third time I've called", Of({kRepeat})},
  };
  for (const MatchCase& c : cases) {
    const PhraseMatches matches = matcher->Match(c.text);
    EXPECT_EQ(matches, c.expected)
        << c.text << ": got " << Describe(matches) << ", want " << Describe(c.expected);
  }
}

TEST(EscalationPhraseMatcherTest, CreateRejectsBadConfig) {
  struct Case {
    std::string config;
    std::vector<std::string> message_parts;
  };
  const Case cases[] = {
      {R"pb(phrase_patterns { phrase_class: "refund_request" patterns: "refund" })pb",
       {"unknown", "refund_request"}},
      {R"pb(phrase_patterns { phrase_class: "churn_threat" patterns: "cancel(my" })pb",
       {"churn_threat", "cancel(my"}},
      {R"pb(phrase_patterns { phrase_class: "repeat_contact" patterns: "ok" patterns: "a**" })pb",
       {"repeat_contact", "a**"}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<EscalationPhraseMatcher> matcher =
        EscalationPhraseMatcher::Create(ParseConfig(c.config));
    ASSERT_FALSE(matcher.ok()) << c.config;
    EXPECT_EQ(matcher.status().code(), absl::StatusCode::kInvalidArgument);
    for (const std::string& part : c.message_parts) {
      EXPECT_THAT(std::string(matcher.status().message()), HasSubstr(part)) << c.config;
    }
  }
}

TEST(ValidateTextConfigTest, ReportsEachProblemWithItsPath) {
  struct Case {
    std::string config;
    std::vector<std::string> paths;
  };
  const Case cases[] = {
      {"", {}},
      {R"pb(phrase_patterns { phrase_class: "manager_request" patterns: "boss" })pb", {}},
      {R"pb(phrase_patterns { phrase_class: "manager_request" patterns: "boss" }
            phrase_patterns { phrase_class: "churn_threat" patterns: "ok" patterns: "(bad" })pb",
       {"phrase_patterns[1].patterns[1]"}},
      {R"pb(phrase_patterns { phrase_class: "nope" patterns: "" }
            phrase_patterns { patterns: "fine" })pb",
       {"phrase_patterns[0].phrase_class", "phrase_patterns[0].patterns[0]",
        "phrase_patterns[1].phrase_class"}},
  };
  for (const Case& c : cases) {
    const std::vector<ConfigProblem> problems = ValidateTextConfig(ParseConfig(c.config));
    std::vector<std::string> paths;
    for (const ConfigProblem& problem : problems) {
      paths.push_back(problem.field_path);
      EXPECT_FALSE(problem.message.empty()) << problem.field_path;
    }
    EXPECT_EQ(paths, c.paths) << c.config;
    // A configuration that validates also builds, and one that does not is refused.
    EXPECT_EQ(EscalationPhraseMatcher::Create(ParseConfig(c.config)).ok(), problems.empty())
        << c.config;
  }
}

TEST(EscalationPhraseMatcherTest, DefaultPatternsAllCompileAndEveryClassHasSome) {
  for (PhraseClass c : kAllPhraseClasses) {
    EXPECT_FALSE(EscalationPhraseMatcher::DefaultPatterns(c).empty()) << PhraseClassName(c);
    v1::TextConfig config;
    v1::PhrasePatterns* entry = config.add_phrase_patterns();
    entry->set_phrase_class(std::string(PhraseClassName(c)));
    for (std::string_view pattern : EscalationPhraseMatcher::DefaultPatterns(c)) {
      entry->add_patterns(std::string(pattern));
    }
    EXPECT_THAT(ValidateTextConfig(config), IsEmpty()) << PhraseClassName(c);
  }
}

}  // namespace
}  // namespace ccstream::domain::text
