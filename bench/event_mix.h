#pragma once

// Events, texts and an engine shared by the micro-benchmarks (engine, ingest, engine step, state),
// so that figures can be compared across benchmarks.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "domain_config.pb.h"
#include "events.pb.h"
#include "processor/domain/engine.h"
#include "tests/support/event_builders.h"

namespace ccstream::bench {

// 2026-01-05 09:00:00 UTC, a Monday inside business hours.
inline constexpr int64_t kT0Ms = 1767603600000;

inline v1::DomainConfig BenchConfig() {
  v1::DomainConfig config;
  config.set_pseudonymisation_key("bench-key-0123456789abcdef");
  return config;
}

inline std::unique_ptr<domain::Engine> MakeEngine() {
  absl::StatusOr<std::unique_ptr<domain::Engine>> engine = domain::Engine::Create(BenchConfig());
  if (!engine.ok()) std::abort();
  return std::move(*engine);
}

// The contact `c` of pass `pass`: one of four queue/channel pairs, one of 5,000 customers.
inline testing::ContactRef Contact(int c, int pass) {
  static const char* const kQueues[] = {"billing", "sales", "support", "retention"};
  static const v1::Channel kChannels[] = {v1::VOICE, v1::VOICE, v1::CHAT, v1::VOICE};
  testing::ContactRef ref;
  ref.contact_id = absl::StrCat("p", pass, "-c", c);
  ref.customer_id = absl::StrCat("cust-", c % 5000);
  ref.queue = kQueues[c % 4];
  ref.channel = kChannels[c % 4];
  return ref;
}

// One pass of the live-contact mix: `contacts` contacts, each queued,
// answered, 8 turns (5 customer with upstream sentiment and loudness, 3 agent without text), a
// hold, a transfer, the end and a survey: 15 events per contact, interleaved over 50 concurrent
// contacts.
inline std::vector<v1::ContactEvent> LiveMix(int contacts, int pass) {
  std::vector<v1::ContactEvent> events;
  events.reserve(static_cast<size_t>(contacts) * 15);
  const int64_t t0 = kT0Ms + int64_t{pass} * 86400000;
  constexpr int kConcurrent = 50;
  for (int base = 0; base < contacts; base += kConcurrent) {
    std::vector<std::vector<v1::ContactEvent>> per_contact;
    for (int c = base; c < std::min(contacts, base + kConcurrent); ++c) {
      const testing::ContactRef ref = Contact(c, pass);
      int64_t t = t0 + int64_t{c} * 1000;
      std::vector<v1::ContactEvent> seq;
      seq.push_back(testing::MakeQueued(ref, t));
      seq.push_back(testing::MakeAnswered(ref, t += 12000));
      for (int turn = 0; turn < 8; ++turn) {
        testing::TurnSpec spec;
        if (turn % 3 == 2) {
          spec.speaker = v1::AGENT;
        } else {
          spec.upstream_sentiment = ((c + turn) % 7 - 3) / 5.0f;
          spec.loudness_db = 60.0f + static_cast<float>((c * 7 + turn) % 9);
          spec.interruption = (c + turn) % 11 == 0;
        }
        seq.push_back(testing::MakeTurn(ref, t += 8000, spec));
      }
      seq.push_back(testing::MakeHoldStarted(ref, t += 5000));
      seq.push_back(testing::MakeHoldEnded(ref, t += 40000));
      seq.push_back(testing::MakeTransferred(ref, t += 5000, ""));
      seq.push_back(testing::MakeEnded(ref, t += 60000));
      seq.push_back(testing::MakeSurvey(ref, t += 60000, 1 + c % 5));
      per_contact.push_back(std::move(seq));
    }
    for (size_t i = 0; i < per_contact[0].size(); ++i) {
      for (auto& seq : per_contact) events.push_back(std::move(seq[i]));
    }
  }
  return events;
}

// Customer turns of about 100 characters.
inline const std::vector<std::string>& Turns100() {
  static const std::vector<std::string> texts = {
      "I have been waiting for three weeks and nobody has called me back about the refund, this "
      "is awful",
      "Thanks, that sorts it out. Could you also confirm the new billing date for next month "
      "please?",
      "This is the third time I've called about the same charge. I want to speak to a manager "
      "right now",
      "If this is not fixed today I will cancel my contract and complain to the ombudsman about "
      "you",
      "Can you tell me how to update my address on the account, I moved house last week and it "
      "still shows",
      "Your engineer never turned up, I took a day off work for nothing. Absolutely useless "
      "service!!",
      "Great, the new plan looks good to me. How long does it take before the discount shows "
      "on my bill?",
      "I'm really disappointed, the product broke after two days and the replacement is also "
      "faulty now.",
  };
  return texts;
}

}  // namespace ccstream::bench
