#include "processor/domain/text/phrases.h"

#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace ccstream::domain::text {
namespace {

constexpr std::array<std::string_view, kPhraseClassCount> kClassNames = {
    "manager_request", "churn_threat", "regulator_or_legal", "repeat_contact"};

// Wraps a pattern so that the match may neither start nor end inside a word: it must be preceded
// by the start of the text or a non-word character, and followed by one or by the end. This is
// \b...\b for patterns whose ends are word characters, and still works when they are not.
std::string Bounded(std::string_view pattern) {
  std::string bounded = "(?:^|\\W)(?:";
  bounded.append(pattern);
  bounded.append(")(?:\\W|$)");
  return bounded;
}

RE2::Options MatcherOptions() {
  RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);  // Ample for the DFA of a few hundred patterns.
  return options;
}

// Error text for a pattern that does not compile, or "" if it compiles.
std::string PatternError(std::string_view pattern) {
  RE2 re(Bounded(pattern), MatcherOptions());
  return re.ok() ? std::string() : re.error();
}

}  // namespace

std::string_view PhraseClassName(PhraseClass phrase_class) {
  return kClassNames[static_cast<size_t>(phrase_class)];
}

bool ParsePhraseClass(std::string_view name, PhraseClass* phrase_class) {
  for (PhraseClass c : kAllPhraseClasses) {
    if (PhraseClassName(c) == name) {
      *phrase_class = c;
      return true;
    }
  }
  return false;
}

std::vector<PhraseClass> PhraseMatches::Classes() const {
  std::vector<PhraseClass> classes;
  for (PhraseClass c : kAllPhraseClasses) {
    if (Has(c)) classes.push_back(c);
  }
  return classes;
}

const std::vector<std::string_view>& EscalationPhraseMatcher::DefaultPatterns(
    PhraseClass phrase_class) {
  static const auto* const kDefaults = new std::array<std::vector<std::string_view>,
                                                      kPhraseClassCount>{{
      // manager_request
      {
          R"((?:speak|talk|speaking|talking|chat|get|put\s+me\s+through|transfer\s+me|connect\s+me|pass\s+me)\s+(?:to|with|on\s+to|onto)\s+(?:a|an|the|your|ur|ya|my|some)?\s*(?:manager|supervisor|superior|boss|team\s*lead(?:er)?|line\s+manager))",
          R"((?:want|need|demand|demanding|request|requesting|ask\s+for|asking\s+for|get\s+me)\s+(?:a|the|your|ur|to\s+see\s+a|to\s+see\s+the)\s+(?:manager|supervisor|boss))",
          R"(supervisors?)",
          R"(someone\s+(?:in\s+charge|more\s+senior|senior|higher\s+up|with\s+(?:more\s+)?authority))",
          R"((?:speak|talk)\s+to\s+(?:someone|somebody|anyone|anybody)\s+(?:else|higher|above\s+you))",
          R"(escalat(?:e|ed|ing)\s+(?:this|it|my\s+(?:complaint|case|issue|problem|query)|the\s+(?:complaint|case|issue|problem|matter)))",
          R"((?:want|need|like|have)\s+(?:this|it|my\s+complaint|my\s+case)\s+escalated)",
          R"((?:manager|supervisor)\s+(?:now|please|immediately|asap))",
      },
      // churn_threat
      {
          R"(cancel(?:l?ing|l?ed)?\s+(?:my|our|the|this)\s+(?:\w+\s+)?(?:account|contract|subscription|service|membership|plan|policy|broadband|line|package|direct\s+debit))",
          R"((?:close|closing|closed|shut|shutting)\s+(?:down\s+)?(?:my|our|all\s+my|all\s+our|the)\s+(?:\w+\s+)?accounts?)",
          R"(switching\s+(?:to|over\s+to))",
          R"((?:going\s+to|gonna|will|i['’]?ll|about\s+to|time\s+to|want\s+to|i\s+should)\s+switch\s+(?:to|over\s+to))",
          R"(switch(?:ing|ed)?\s+(?:providers?|banks?|carriers?|networks?|suppliers?|companies|airlines|insurers?))",
          R"((?:going\s+to|gonna|will|i['’]?ll|about\s+to|thinking\s+(?:of|about)|time\s+to|i['’]?m|i\s+am|we['’]?re|we\s+are)\s+leav(?:e|ing)\s+(?:you|u|ya)(?:\s+guys)?(?:\s*(?:[.!,;?]|$)|\s+(?:for|and|now|soon|if|unless|after|as|because|over|then|forever|today|tomorrow)))",
          R"(take\s+my\s+(?:business|money|custom)\s+(?:elsewhere|somewhere\s+else|to))",
          R"((?:taking|moving|move)\s+my\s+(?:business|money|custom|account)\s+(?:elsewhere|somewhere\s+else|to))",
          R"((?:find|finding|look(?:ing)?\s+for|go(?:ing)?\s+with)\s+(?:a\s+)?(?:new|another|different)\s+(?:provider|bank|company|carrier|network|supplier|airline|isp|insurer))",
          R"(never\s+(?:use|using|fly|flying|shop|shopping|buy|buying|order|ordering|bank|banking|deal|dealing)\s+(?:with\s+|from\s+|at\s+)?(?:you|u|ya|your\s+\w+|this\s+\w+)\s+again)",
          R"(port(?:ing)?\s+(?:my|our)\s+numbers?)",
      },
      // regulator_or_legal
      {
          R"(ombudsman)",
          R"(regulators?)",
          R"(fca|cfpb|bbb|ofcom|ofgem|ofwat|fcc|ftc|ico|trading\s+standards)",
          R"(better\s+business\s+bureau|attorney\s+general|consumer\s+(?:protection|financial\s+protection))",
          R"(lawyers?|solicitors?|attorneys?|barristers?)",
          R"(sue|suing|sued|lawsuit|class\s+action)",
          R"(legal\s+(?:action|proceedings|team|department|advice|route))",
          R"(small\s+claims)",
          R"((?:see|take)\s+(?:you|u|ya|them|this|it)\s+(?:in|to)\s+court)",
          R"(court\s+(?:action|case|claim))",
          R"((?:report|reporting|reported)\s+(?:you|u|this|it|your\s+company)\s+to)",
      },
      // repeat_contact
      {
          R"((?:second|2nd)\s+time\s+(?:i['’]?ve\s+|i\s+have\s+|i\s+|we['’]?ve\s+|we\s+have\s+|we\s+)?(?:called|calling|rang|ringing|phoned|phoning|contacted|contacting|messaged|messaging|emailed|emailing|tweeted|tweeting|written|writing|asked|asking|chatted|reached\s+out|been\s+in\s+touch|tried|complained|complaining|reported|spoken|spoke|had\s+to))",
          R"((?:third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|umpteenth|nth|hundredth|millionth|(?:[3-9]|[1-9]\d+)(?:st|nd|rd|th))\s+time)",
          R"((?:called|call|calling|rang|phoned|contacted|emailed|messaged|tweeted|written|wrote|chatted|complained|asked)\s+(?:to\s+)?(?:you\s+|u\s+|you\s+guys\s+|them\s+|in\s+|about\s+(?:this|it)\s+)?(?:(?:two|three|four|five|six|seven|eight|nine|ten|several|multiple|many|numerous|countless|\d+)\s+(?:\w+\s+)?times|twice|repeatedly|so\s+many\s+times))",
          R"(again\s+and\s+again|over\s+and\s+over(?:\s+again)?|time\s+and\s+(?:time\s+)?again)",
          R"(still\s+(?:not|isn['’]?t|hasn['’]?t|haven['’]?t|hasnt|havent|isnt|aren['’]?t|wasn['’]?t|no)\s+(?:been\s+)?(?:fixed|resolved|sorted|working|received|arrived|refunded|done|answered|delivered|heard|reply|response|refund|answer|update|word))",
          R"(still\s+(?:broken|waiting|down|unresolved|haven['’]?t\s+heard|have\s+not\s+heard|not\s+heard))",
          R"((?:keep|keeps|kept|keep\s+on)\s+(?:calling|ringing|phoning|contacting|emailing|chasing|messaging|tweeting|getting\s+(?:cut\s+off|transferred|passed\s+around|disconnected)|being\s+(?:told|transferred|passed)))",
          R"((?:every|each)\s+time\s+i\s+(?:call|ring|phone|contact|chat|email))",
          R"((?:already|previously)\s+(?:called|contacted|reported|complained|rang|phoned|raised|emailed|messaged|spoken|spoke|explained))",
          R"((?:after|made|with)\s+(?:\d+|two|three|four|five|six|seven|eight|nine|ten|several|multiple|numerous|countless|so\s+many)\s+(?:phone\s+)?(?:calls|emails|chats|messages|attempts|complaints))",
      },
  }};
  return (*kDefaults)[static_cast<size_t>(phrase_class)];
}

EscalationPhraseMatcher::EscalationPhraseMatcher() = default;
EscalationPhraseMatcher::EscalationPhraseMatcher(EscalationPhraseMatcher&&) noexcept = default;
EscalationPhraseMatcher& EscalationPhraseMatcher::operator=(EscalationPhraseMatcher&&) noexcept =
    default;
EscalationPhraseMatcher::~EscalationPhraseMatcher() = default;

absl::StatusOr<EscalationPhraseMatcher> EscalationPhraseMatcher::Create(
    const v1::TextConfig& config) {
  std::array<std::vector<std::string_view>, kPhraseClassCount> patterns;
  for (const v1::PhrasePatterns& entry : config.phrase_patterns()) {
    PhraseClass phrase_class;
    if (!ParsePhraseClass(entry.phrase_class(), &phrase_class)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown escalation phrase class \"", entry.phrase_class(), "\""));
    }
    for (const std::string& pattern : entry.patterns()) {
      patterns[static_cast<size_t>(phrase_class)].push_back(pattern);
    }
  }
  EscalationPhraseMatcher matcher;
  matcher.set_ = std::make_unique<RE2::Set>(MatcherOptions(), RE2::UNANCHORED);
  for (PhraseClass phrase_class : kAllPhraseClasses) {
    std::vector<std::string_view>& class_patterns = patterns[static_cast<size_t>(phrase_class)];
    if (class_patterns.empty()) class_patterns = DefaultPatterns(phrase_class);
    for (std::string_view pattern : class_patterns) {
      std::string error;
      if (matcher.set_->Add(Bounded(pattern), &error) < 0) {
        std::string message = "escalation phrase class ";
        message.append(PhraseClassName(phrase_class));
        message.append(": bad pattern \"");
        message.append(pattern);
        message.append("\": ");
        message.append(error);
        return absl::InvalidArgumentError(message);
      }
      matcher.pattern_class_.push_back(phrase_class);
    }
  }
  if (!matcher.set_->Compile()) {
    return absl::ResourceExhaustedError(
        "escalation phrase patterns are too large to compile together");
  }
  return matcher;
}

const EscalationPhraseMatcher& EscalationPhraseMatcher::Default() {
  static const EscalationPhraseMatcher* const kDefault = [] {
    absl::StatusOr<EscalationPhraseMatcher> matcher = Create(v1::TextConfig());
    // The built-in patterns are covered by unit tests; failing here is a programming error.
    if (!matcher.ok()) std::abort();
    return new EscalationPhraseMatcher(*std::move(matcher));
  }();
  return *kDefault;
}

PhraseMatches EscalationPhraseMatcher::Match(std::string_view text) const {
  PhraseMatches matches;
  // RE2 flushes the DFA cache when it fills up, so with MatcherOptions' budget the set does not
  // fail on long texts; a false return means no pattern matched.
  //
  // Most texts match nothing. Without an output vector the set answers "does any pattern match"
  // (documented in re2/set.h) and stops at the first match, with no per-call allocation; only
  // when that says yes is the text scanned again to learn which patterns matched.
  if (!set_->Match(text, nullptr)) return matches;
  thread_local std::vector<int> indices;
  indices.clear();
  if (!set_->Match(text, &indices)) return matches;
  for (int index : indices) matches.Add(pattern_class_[static_cast<size_t>(index)]);
  return matches;
}

std::vector<ccstream::domain::ConfigProblem> ValidateTextConfig(const v1::TextConfig& config) {
  std::vector<ccstream::domain::ConfigProblem> problems;
  for (int i = 0; i < config.phrase_patterns_size(); ++i) {
    const v1::PhrasePatterns& entry = config.phrase_patterns(i);
    const std::string path = absl::StrCat("phrase_patterns[", i, "]");
    PhraseClass phrase_class;
    if (!entry.has_phrase_class() || entry.phrase_class().empty()) {
      problems.push_back({absl::StrCat(path, ".phrase_class"), "phrase class is required"});
    } else if (!ParsePhraseClass(entry.phrase_class(), &phrase_class)) {
      problems.push_back({absl::StrCat(path, ".phrase_class"),
                          absl::StrCat("unknown phrase class \"", entry.phrase_class(),
                                       "\"; expected manager_request, churn_threat, "
                                       "regulator_or_legal or repeat_contact")});
    }
    for (int j = 0; j < entry.patterns_size(); ++j) {
      const std::string& pattern = entry.patterns(j);
      std::string field = absl::StrCat(path, ".patterns[", j, "]");
      if (pattern.empty()) {
        problems.push_back({std::move(field), "pattern is empty"});
        continue;
      }
      std::string error = PatternError(pattern);
      if (!error.empty()) {
        problems.push_back({std::move(field), absl::StrCat("pattern does not compile: ", error)});
      }
    }
  }
  return problems;
}

}  // namespace ccstream::domain::text
