#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace ccstream::gen {

// How a customer feels in one turn; picks the template family of the turn's text.
enum class Mood { kSatisfied, kNeutral, kAnnoyed, kAngry };

// What an escalating customer says beyond plain anger.
enum class Escalation {
  kManager,    // asks for a manager or supervisor
  kCancel,     // threatens to cancel or leave
  kRegulator,  // threatens the regulator or the ombudsman
  kRepeat,     // says how many times they have called already
};

// What an agent is doing in a turn.
enum class AgentMove {
  kGreeting,
  kProbe,
  kExplain,
  kEmpathy,
  kHoldRequest,
  kBackFromHold,
  kTransfer,
  kEscalate,  // answers a manager request or a threat
  kClosing,
};

// Number of customer templates of a mood (at least 40 each).
int CustomerTemplateCount(Mood mood);

// Customer template `index` of `mood` with its slots filled for `queue` (the subject of the
// contact is drawn from the queue's topics; unknown queues get generic ones). 40..200 chars.
std::string CustomerText(Mood mood, int index, std::string_view queue, std::mt19937_64& rng);

// A random customer text of `mood` for `queue`.
std::string RandomCustomerText(Mood mood, std::string_view queue, std::mt19937_64& rng);

// A customer's escalation line. For kRepeat, `contact_number` is which contact of the customer
// this is (2 = "second time", 3 = "third time", …).
std::string EscalationText(Escalation kind, std::string_view queue, int contact_number,
                           std::mt19937_64& rng);

// An agent's line for `move` in `queue`.
std::string AgentText(AgentMove move, std::string_view queue, std::mt19937_64& rng);

// A wrap-up code fitting `queue` and whether the need was resolved, e.g. "billing-adjusted".
std::string Disposition(std::string_view queue, bool resolved, std::mt19937_64& rng);

// The issue line of a formal complaint about `queue`, e.g. "Incorrect charges on my bill".
std::string ComplaintIssue(std::string_view queue, std::mt19937_64& rng);

// Uniform integer in [0, n) from `rng` (libstdc++'s uniform_int_distribution).
int Pick(int n, std::mt19937_64& rng);

}  // namespace ccstream::gen
