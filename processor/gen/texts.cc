#include "processor/gen/texts.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"

namespace ccstream::gen {
namespace {

// Slots: {thing} the subject of the contact (from the queue's topics), {amount} a sum of money,
// {days} a number of days, {ref} a reference number, {weekday} a day of the week.

constexpr const char* kSatisfied[] = {
    "Thank you so much, that sorts out {thing} perfectly. You have been really helpful today.",
    "That's brilliant, thanks! I was worried about {thing} but you explained it really well.",
    "Great, that is exactly what I needed. Thanks for being so patient with me.",
    "Perfect, I can see the change on {thing} already. Really appreciate your help.",
    "Lovely, thank you. It's nice to get it fixed on the first call for once.",
    "Thanks a lot, that was quick and easy. I'm happy with how you handled {thing}.",
    "Wonderful, that's a relief. I'll keep the reference {ref} just in case.",
    "Excellent, thank you for sorting {thing} so quickly, you've made my day.",
    "That's great news about {thing}, thanks for checking it so thoroughly.",
    "Oh that's fantastic, I didn't expect it to be resolved today. Thank you!",
    "Cheers, that works for me. The credit of {amount} is more than fair.",
    "Brilliant, the new setup on {thing} is working fine now. Thanks for your help.",
    "Thank you, you've been very kind and clear. I know exactly what happens next.",
    "Really pleased with that, thanks. I'll recommend you to my family.",
    "That's sorted then, thank you. Much better service than I expected, honestly.",
    "Perfect, thanks for explaining {thing} in plain English, it finally makes sense.",
    "Great stuff, I've received the confirmation email already. Thanks again.",
    "Thanks, that's really helpful. I'm glad we could fix {thing} without an engineer.",
    "Amazing, thank you! The refund of {amount} will help a lot this month.",
    "Appreciate it, you've been super helpful. Have a lovely rest of your day.",
    "That's very good of you, thanks. I'm happy to stay with you after this.",
    "Thank you, it all looks correct on {thing} now. Good to know it's fixed.",
    "Fab, thanks for the quick answer. I'll check again on {weekday} as you said.",
    "That's exactly right, thank you. Nice to speak to someone who knows their stuff.",
    "Super, that's all working again. Thanks for staying on the line while I tested it.",
    "Many thanks, I'm really happy with the outcome on {thing}.",
    "Thanks for your help today, it was much easier than I thought it would be.",
    "Great, that's a weight off my mind. Thank you for following up on {thing}.",
    "Lovely, the discount of {amount} is a nice surprise. Thank you very much.",
    "Thank you for being so helpful, I'll leave some good feedback in the survey.",
    "Okay perfect, I have the reference {ref}. Thanks for making it simple.",
    "That works perfectly, thanks. You've solved something that bugged me for weeks.",
    "Thanks, really good service. I'm glad I called about {thing} today.",
    "Brilliant, it's all up and running. Thank you for your patience with me.",
    "Thanks so much for the help with {thing}, you've been a star.",
    "That's really kind, thank you. I'm happy with the solution you found.",
    "Great, thanks for clearing that up. Everything on {thing} looks fine now.",
    "Excellent service, thank you. I appreciate you taking the time to check.",
    "Perfect, I'm really grateful. That's the best help I've had from anyone.",
    "Thanks, that's sorted and I'm very satisfied. Have a good {weekday}!",
    "Nice one, thank you. The app shows the update on {thing} already.",
    "Thank you, that's a great result. I'll get in touch if anything changes.",
    "Wow, that was fast. Thanks for fixing {thing} while I was on the phone.",
    "Good, that's all I needed. Thanks for the clear explanation and the follow-up.",
};

constexpr const char* kNeutral[] = {
    "Hi, I'm calling about {thing}. Could you tell me what the current status is?",
    "Hello, I have a question about {thing} on my account, reference {ref}.",
    "Can you explain why {thing} shows {amount} this month? I just want to understand it.",
    "I'd like to check when {thing} will be updated, is there a date for that?",
    "Hi there, I moved house recently and need to update the details for {thing}.",
    "Could you confirm whether {thing} is included in my current plan, please?",
    "I received a letter about {thing} and I'm not sure what I need to do next.",
    "Is it possible to change the payment date for {thing} to the end of the month?",
    "My reference number is {ref}. I wanted to ask about {thing}, please.",
    "How long does it usually take for {thing} to be processed?",
    "I'm looking at {thing} in the app and I can't find where to change it.",
    "Can you send me a copy of the last statement for {thing} by email?",
    "Hello, what options do I have for {thing}? I'm comparing a few offers.",
    "I just want to check that the change to {thing} went through on {weekday}.",
    "Could you tell me what the charge of {amount} relates to, please?",
    "I think I need to update my email address, can you help me with that?",
    "When is the next bill due? I'd like to plan for {thing} in advance.",
    "I was told someone would call me back within {days} days about {thing}.",
    "Is there a way to add another person to {thing} on my account?",
    "I'd like to know more about {thing} before I decide anything.",
    "Okay, and would that change the monthly price of {thing} at all?",
    "Right, so what's the next step for {thing} from my side?",
    "Can you check if there's an outage in my area affecting {thing}?",
    "I've got the reference {ref} here. What information do you need from me?",
    "Do I need to do anything with {thing}, or will it update automatically?",
    "Hi, I'm just calling to follow up on {thing} from last {weekday}.",
    "Could you walk me through the charges on {thing}? There are a few lines I don't know.",
    "What's the difference between my current plan and the one you mentioned?",
    "Is {thing} covered by the warranty, or would there be a cost of {amount}?",
    "I need to change the address on {thing}, we moved {days} days ago.",
    "Okay, I've restarted it like you said. What should I look for now?",
    "Can I pay the {amount} by card now, or does it need to be a bank transfer?",
    "Sure, my date of birth is on the account. Do you need the postcode as well?",
    "Will I get an email confirmation once {thing} has been changed?",
    "I'd like to book an appointment about {thing} for {weekday} if possible.",
    "Hello, I'm enquiring about {thing}. A friend said there was a new offer.",
    "How do I set up online access for {thing}? I can't find the link.",
    "Could you check whether my last payment of {amount} has been received?",
    "Alright, and how many days will it take? I was hoping for this week.",
    "I'm not sure which option suits me best for {thing}, what would you suggest?",
    "Yes, that's the right account. The one with {thing} on it.",
    "I just want to make sure nothing changes on {thing} until next month.",
    "Can you tell me when my contract for {thing} ends? I'd like to plan ahead.",
    "Hi, quick question: is there a fee if I change {thing} mid-month?",
};

constexpr const char* kAnnoyed[] = {
    "I've been waiting {days} days for {thing} to be sorted and nothing has happened.",
    "This is a bit frustrating, I was told {thing} would be fixed by now.",
    "I'm not happy that I was charged {amount} for {thing} without any warning.",
    "Honestly I've spent ages on hold just to ask about {thing}. Not great.",
    "I'm disappointed, the app still shows the wrong information for {thing}.",
    "Why does it take so long to update {thing}? It shouldn't be this hard.",
    "I asked for this to be changed last month and {thing} is still wrong.",
    "It's quite annoying that nobody called me back about {thing} like they promised.",
    "I don't understand why I'm paying {amount} more this month for {thing}.",
    "I've explained this twice already today, can we please just fix {thing}?",
    "The last person said it was done, but {thing} still isn't working properly.",
    "Look, I just want a straight answer about {thing}, not another script.",
    "That's not really what I was told before. Someone said it was free.",
    "I'm getting a bit fed up with {thing} going down every few days.",
    "It's not ideal, I work from home and {thing} keeps cutting out.",
    "I was promised a refund of {amount} and I still haven't seen it.",
    "Your website says one thing and your colleague said another. Which is right?",
    "I'm unhappy with how long {thing} is taking, it's been {days} days now.",
    "This is the kind of thing that makes me want to look at other providers.",
    "I really don't have time for this, can you just sort out {thing} please?",
    "It's frustrating that I have to chase you about {thing} every single month.",
    "The engineer never turned up on {weekday} and nobody let me know.",
    "I'm not impressed, the bill for {thing} went up and no one told me why.",
    "It says resolved on my account but {thing} is still broken. That's not right.",
    "I've been transferred around for a while now. Can you actually help with this?",
    "I'm a bit annoyed, the offer I was given for {thing} isn't on my bill.",
    "Well that's not very helpful. I need {thing} working by {weekday}.",
    "I keep getting emails about {thing} that don't apply to me. Please stop them.",
    "To be honest this has been a poor experience so far, I expected better.",
    "Why was I charged a late fee of {amount}? I paid on time.",
    "I don't think it's fair to pay for {thing} when it hasn't worked for {days} days.",
    "Okay but that doesn't explain why {thing} was changed without asking me.",
    "It's the same problem with {thing} as last month, it clearly wasn't fixed.",
    "Sorry but I'm losing patience, this should have been a simple change.",
    "I was cut off the last time I called about {thing}, which didn't help.",
    "The chat bot was useless about {thing}, so now I'm having to call instead.",
    "I've had reference {ref} for weeks and still no update. What's going on?",
    "That's disappointing. I'd have expected you to check {thing} before charging me.",
    "I'm not happy about the {amount} charge, I never agreed to that.",
    "It's really inconvenient, {thing} stopped working right before the weekend.",
    "I shouldn't have to call three different numbers to get {thing} sorted.",
    "Not good enough really. I was told someone would email me within {days} days.",
    "Hmm, that's the same answer I got last time and it didn't work.",
    "I'm fed up with the wait times, it took forever just to get through.",
};

constexpr const char* kAngry[] = {
    "This is absolutely ridiculous. {thing} has been broken for {days} days and nobody cares!",
    "I am furious. You took {amount} from my account for {thing} without permission!",
    "This is completely unacceptable, I've been lied to about {thing} again and again.",
    "Your service is a joke. {thing} still doesn't work and I'm paying full price for it.",
    "I'm sick and tired of this. Every call about {thing} ends with nothing being done.",
    "No, I will not calm down. You've messed up {thing} for the third month running!",
    "This is a disgrace. I've wasted hours of my life on {thing} because of you.",
    "Stop reading me the script! I want {thing} fixed today, not another excuse.",
    "You people are useless. How is it this hard to get {thing} right?",
    "I am extremely angry, the {amount} charge is wrong and you know it's wrong.",
    "Frankly this is the worst customer service I have ever had, {thing} is a mess.",
    "Don't tell me to wait another {days} days. I've waited long enough for {thing}!",
    "I can't believe this. You cut off {thing} while I was in the middle of paying.",
    "It's outrageous that {thing} is still wrong after everything I've been promised.",
    "I'm absolutely livid. Nobody has called me back and {thing} is still broken.",
    "This is appalling service. I have had enough of your broken promises about {thing}.",
    "Are you even listening? I've told you three times that {thing} is wrong!",
    "Terrible, just terrible. You overcharged me {amount} and now you want me to wait?",
    "What a shambles. The engineer didn't show up on {weekday} and nobody told me.",
    "I'm so angry right now. {thing} failing has cost me a day's work.",
    "This is a nightmare. I've been passed from department to department about {thing}.",
    "Unbelievable. You closed my ticket {ref} without fixing anything!",
    "I'm disgusted with how I've been treated over {thing}. Absolutely shocking.",
    "No more excuses! Refund the {amount} now, you had no right to take it.",
    "I'm fuming. You promised {thing} would be sorted last week and it's worse now.",
    "You've completely ruined my week with this mess over {thing}.",
    "This is pathetic. How can a company this big get {thing} so wrong?",
    "I am not paying a penny more for {thing} until this is fixed properly!",
    "Honestly this is shocking. My elderly mum has had no {thing} for {days} days!",
    "You keep saying sorry but nothing changes. Sorry isn't fixing {thing}!",
    "I have had it with you lot. {thing} has been a disaster from day one.",
    "Why does nobody ever take responsibility? {thing} is your mistake, not mine!",
    "This is the most incompetent service I have ever dealt with, it's ridiculous.",
    "I'm raging, you've sent me another bill for {amount} that I don't owe!",
    "Enough is enough. I'm completely fed up with the lies about {thing}.",
    "It is totally unacceptable that I still have no {thing} after {days} days.",
    "I've been on hold for an hour, cut off twice, and {thing} is still broken. Awful.",
    "Don't you dare put me on hold again! Just fix {thing} right now.",
    "You're treating loyal customers like rubbish. {thing} is a complete failure.",
    "I'm shouting because nobody listens! {thing} is wrong and has been for weeks!",
    "This is a scandal. You took {amount} twice and now nobody can explain why.",
    "Seriously, this is beyond a joke. Reference {ref} and still nothing fixed.",
    "I'm so frustrated and angry, you have wasted my whole {weekday} with this.",
    "Horrible experience from start to finish. {thing} is still not working at all.",
};

constexpr const char* kManager[] = {
    "I want to speak to your manager right now. You clearly can't sort out {thing}.",
    "Put me through to a supervisor please, I'm not discussing {thing} with you anymore.",
    "Can I speak to someone more senior? A manager, please. This has gone on too long.",
    "I'd like to escalate this. Get me your supervisor on the line about {thing}.",
    "I demand to talk to a manager. Nobody at your level is able to fix this.",
    "Is there a team leader I can speak to? I want {thing} escalated today.",
    "I'm not hanging up until I've spoken to your manager about {thing}.",
    "Let me talk to your supervisor. I've had enough of being fobbed off.",
};

constexpr const char* kCancel[] = {
    "If {thing} isn't fixed today I am cancelling my contract and going elsewhere.",
    "I want to cancel everything. I'm switching to another provider this week.",
    "Honestly I'm ready to leave you. Give me one reason not to cancel over {thing}.",
    "I'm closing my account unless you sort out {thing} and refund the {amount}.",
    "Cancel my subscription then, I'm done with this company after {thing}.",
    "I've already looked at your competitors. One more problem and I'm leaving.",
};

constexpr const char* kRegulator[] = {
    "If this isn't resolved I will take it to the ombudsman. I've kept every email.",
    "I'm going to report you to the regulator over {thing}, this is not legal.",
    "I will be making a formal complaint and escalating to the ombudsman about {thing}.",
    "I'm contacting the regulator and my solicitor about the {amount} you took.",
    "This is going to the ombudsman. You've had {days} days to fix {thing}.",
    "I want to lodge a formal complaint. If that fails, I'm going to the regulator.",
};

constexpr const char* kRepeat[] = {
    "This is the {nth} time I've called about {thing} and it's still not sorted.",
    "I'm calling for the {nth} time now about {thing}. Why does nobody fix it?",
    "It's the {nth} time I've had to contact you about {thing} this month.",
    "I already called about {thing}, this is the {nth} time. Check my reference {ref}.",
    "This is my {nth} call about {thing}. I keep explaining the same thing.",
};

struct AgentLines {
  AgentMove move;
  std::vector<const char*> lines;
};

const std::array<AgentLines, 9>& AgentTable() {
  static const std::array<AgentLines, 9> kTable = {{
      {AgentMove::kGreeting,
       {"Hello, thanks for contacting us, my name is {agent}. How can I help you today?",
        "Good morning, you're through to the {queue} team. What can I do for you?",
        "Hi, thanks for waiting. Can I take your account number to get started?",
        "Thanks for getting in touch, I'll be helping you today. What's happened?"}},
      {AgentMove::kProbe,
       {"Can I just confirm the postcode on the account, please?",
        "When did you first notice the problem with {thing}?",
        "I'm looking at {thing} now. Could you tell me what you see on your side?",
        "Could you give me the reference number from the last contact, please?",
        "Just to check I understand, is it {thing} that's affected or the whole account?"}},
      {AgentMove::kExplain,
       {"I can see what happened with {thing}. It's corrected and will show in a day or two.",
        "The charge of {amount} is a one-off adjustment. I've added a note to explain it.",
        "I've raised a request for {thing}, your reference is {ref}.",
        "I've applied a credit of {amount} to the account, it will show on the next bill.",
        "That's been updated now. You'll get a confirmation email shortly.",
        "I've booked an engineer for {weekday} between 8am and 1pm."}},
      {AgentMove::kEmpathy,
       {"I'm really sorry about this, I understand how frustrating it must be.",
        "I completely understand, and I apologise for the trouble with {thing}.",
        "I'm sorry you've had to call again. Let me see what I can do right now.",
        "I hear you, and I want to get this sorted for you today."}},
      {AgentMove::kHoldRequest,
       {"Let me check that with the team. Do you mind if I put you on a short hold?",
        "I'll need to look into {thing} further, I'm going to place you on hold for a moment.",
        "Bear with me while I check the system, I'll put you on hold briefly."}},
      {AgentMove::kBackFromHold,
       {"Thanks for holding. I've had a look at {thing} with my colleague.",
        "Sorry for the wait, I'm back. I have an update for you.",
        "Thank you for your patience, I've checked the history of the account."}},
      {AgentMove::kTransfer,
       {"I'm going to transfer you to a team who can help with that directly.",
        "That's handled by another department, I'll put you through now.",
        "Let me transfer you to a specialist for {thing}, please stay on the line."}},
      {AgentMove::kEscalate,
       {"I understand. I'm flagging this as a complaint and asking my manager to review it.",
        "I can arrange for a supervisor to call you back today about {thing}.",
        "I've escalated {thing} to my team leader, reference {ref}.",
        "I'm sorry it's come to this. I'm logging a formal complaint on your behalf."}},
      {AgentMove::kClosing,
       {"Is there anything else I can help you with today?",
        "Thanks for your patience today. You'll get a short survey after this contact.",
        "I've noted everything on the account. Have a good rest of your day.",
        "Thanks for contacting us, take care."}},
  }};
  return kTable;
}

// Topics of each known queue; unknown queues use the generic list.
const std::vector<const char*>& Topics(std::string_view queue) {
  static const std::vector<const char*> kBilling = {"my bill",
                                                    "the last invoice",
                                                    "my direct debit",
                                                    "the late payment fee",
                                                    "my account balance",
                                                    "the monthly charge"};
  static const std::vector<const char*> kTechnical = {"my broadband",   "the router",
                                                      "my mobile data", "the TV box",
                                                      "my landline",    "the Wi-Fi connection"};
  static const std::vector<const char*> kSales = {"the new fibre plan", "an upgrade",
                                                  "the family bundle",  "the sports package",
                                                  "a second line",      "the new phone offer"};
  static const std::vector<const char*> kCancellations = {
      "my contract",          "the subscription",   "my phone line",
      "the streaming add-on", "the early exit fee", "the notice period"};
  static const std::vector<const char*> kComplaints = {
      "the service I got",       "the engineer visit", "my refund",
      "the handling of my case", "the wrong charges",  "the repeated outages"};
  static const std::vector<const char*> kGeneric = {
      "my account", "the service", "my order", "the delivery", "my payment", "the online account"};
  if (queue == "billing") return kBilling;
  if (queue == "technical-support") return kTechnical;
  if (queue == "sales") return kSales;
  if (queue == "cancellations") return kCancellations;
  if (queue == "complaints") return kComplaints;
  return kGeneric;
}

std::string Fill(std::string_view pattern, std::string_view queue, std::mt19937_64& rng,
                 int contact_number = 0) {
  static constexpr const char* kWeekdays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                              "Friday", "Saturday", "Sunday"};
  static constexpr const char* kAgents[] = {"Sam", "Priya", "Tom", "Aisha", "Luca", "Megan"};
  static constexpr const char* kOrdinals[] = {"first",  "second", "third",
                                              "fourth", "fifth",  "sixth"};
  const auto& topics = Topics(queue);
  const std::string thing = topics[Pick(static_cast<int>(topics.size()), rng)];
  const int pounds = 5 + Pick(296, rng);
  const int pence = Pick(100, rng);
  const std::string amount =
      "£" + std::to_string(pounds) + "." + (pence < 10 ? "0" : "") + std::to_string(pence);
  const std::string days = std::to_string(2 + Pick(19, rng));
  const std::string ref = "CC" + std::to_string(100000 + Pick(900000, rng));
  const std::string weekday = kWeekdays[Pick(7, rng)];
  const std::string agent = kAgents[Pick(6, rng)];
  const int ordinal = std::min(std::max(contact_number, 1), 6) - 1;
  return absl::StrReplaceAll(std::string(pattern), {{"{thing}", thing},
                                                    {"{amount}", amount},
                                                    {"{days}", days},
                                                    {"{ref}", ref},
                                                    {"{weekday}", weekday},
                                                    {"{agent}", agent},
                                                    {"{queue}", std::string(queue)},
                                                    {"{nth}", kOrdinals[ordinal]}});
}

template <size_t N>
std::vector<const char*> AsVector(const char* const (&array)[N]) {
  return std::vector<const char*>(array, array + N);
}

const std::vector<const char*>& CustomerTemplates(Mood mood) {
  static const std::vector<const char*> kS = AsVector(kSatisfied);
  static const std::vector<const char*> kN = AsVector(kNeutral);
  static const std::vector<const char*> kA = AsVector(kAnnoyed);
  static const std::vector<const char*> kG = AsVector(kAngry);
  switch (mood) {
    case Mood::kSatisfied:
      return kS;
    case Mood::kNeutral:
      return kN;
    case Mood::kAnnoyed:
      return kA;
    case Mood::kAngry:
      return kG;
  }
  return kN;
}

}  // namespace

int Pick(int n, std::mt19937_64& rng) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }

int CustomerTemplateCount(Mood mood) { return static_cast<int>(CustomerTemplates(mood).size()); }

std::string CustomerText(Mood mood, int index, std::string_view queue, std::mt19937_64& rng) {
  return Fill(CustomerTemplates(mood)[index], queue, rng);
}

std::string RandomCustomerText(Mood mood, std::string_view queue, std::mt19937_64& rng) {
  return CustomerText(mood, Pick(CustomerTemplateCount(mood), rng), queue, rng);
}

std::string EscalationText(Escalation kind, std::string_view queue, int contact_number,
                           std::mt19937_64& rng) {
  std::vector<const char*> lines;
  switch (kind) {
    case Escalation::kManager:
      lines = AsVector(kManager);
      break;
    case Escalation::kCancel:
      lines = AsVector(kCancel);
      break;
    case Escalation::kRegulator:
      lines = AsVector(kRegulator);
      break;
    case Escalation::kRepeat:
      lines = AsVector(kRepeat);
      break;
  }
  return Fill(lines[Pick(static_cast<int>(lines.size()), rng)], queue, rng, contact_number);
}

std::string AgentText(AgentMove move, std::string_view queue, std::mt19937_64& rng) {
  for (const AgentLines& entry : AgentTable()) {
    if (entry.move == move) {
      return Fill(entry.lines[Pick(static_cast<int>(entry.lines.size()), rng)], queue, rng);
    }
  }
  return Fill("Thanks, bear with me a moment.", queue, rng);
}

std::string Disposition(std::string_view queue, bool resolved, std::mt19937_64& rng) {
  if (!resolved) {
    static constexpr const char* kOpen[] = {"callback-promised", "escalated-to-manager",
                                            "pending-investigation", "customer-to-call-back"};
    return kOpen[Pick(4, rng)];
  }
  if (queue == "billing") return Pick(2, rng) == 0 ? "billing-adjusted" : "refund-issued";
  if (queue == "technical-support") {
    return Pick(2, rng) == 0 ? "fixed-remotely" : "technician-booked";
  }
  if (queue == "sales") return Pick(2, rng) == 0 ? "sale-completed" : "info-provided";
  if (queue == "cancellations") return Pick(2, rng) == 0 ? "retention-offer" : "cancelled";
  if (queue == "complaints") return "complaint-resolved";
  return "info-provided";
}

std::string ComplaintIssue(std::string_view queue, std::mt19937_64& rng) {
  static constexpr const char* kIssues[] = {"Incorrect charges on my bill",
                                            "Repeated service outages",
                                            "Engineer did not attend",
                                            "Refund not received",
                                            "Poor handling of previous complaints",
                                            "Contract changed without consent",
                                            "Unable to cancel the service"};
  if (queue == "billing") return Pick(2, rng) == 0 ? kIssues[0] : kIssues[3];
  if (queue == "technical-support") return Pick(2, rng) == 0 ? kIssues[1] : kIssues[2];
  if (queue == "cancellations") return Pick(2, rng) == 0 ? kIssues[5] : kIssues[6];
  return kIssues[Pick(7, rng)];
}

}  // namespace ccstream::gen
