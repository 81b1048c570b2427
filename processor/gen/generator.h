#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "events.pb.h"

namespace ccstream::gen {

// One queue (skill group) of the simulated contact centre and the media it serves.
struct QueueSpec {
  // Queue name, used as the event's queue (a metrics label). Default: "general".
  std::string name = "general";
  // Share of arrivals that go to this queue, relative to the other queues. Default: 1.
  double weight = 1.0;
  // Relative share of calls (VOICE) among this queue's contacts. Default: 0.6.
  double voice_share = 0.6;
  // Relative share of chats (CHAT). Default: 0.32.
  double chat_share = 0.32;
  // Relative share of e-mails (EMAIL): long waits, no abandons. Default: 0.05.
  double email_share = 0.05;
  // Relative share of social-media conversations (SOCIAL). Default: 0.03.
  double social_share = 0.03;
  // Mean queue wait before an agent answers, in seconds (exponential). Default: 18.
  double mean_wait_s = 18.0;
};

// The queues used when GeneratorOptions::queues is left empty: billing, technical-support,
// sales, cancellations, complaints.
std::vector<QueueSpec> DefaultQueues();

// What traffic to generate. Plain data; every field has a usable default.
struct GeneratorOptions {
  // Seed of the pseudo-random generator; equal seeds and options give identical events.
  // Default: 1.
  uint64_t seed = 1;
  // Target average number of events per second of event time, over all queues. Default: 50.
  double events_per_second = 50.0;
  // Length of the generated stretch of event time, in seconds; 0 means no limit. Default: 3600.
  double duration_s = 3600.0;
  // Stop after this many events; 0 means no limit. Default: 0.
  int64_t max_events = 0;
  // Event time of the first arrival, in ms since the Unix epoch (UTC).
  // Default: 1767258000000 (2026-01-01T09:00:00Z).
  int64_t start_time_ms = 1'767'258'000'000;
  // Number of distinct customers (ids "cust-0" .. "cust-<n-1>"); arrivals pick one at random,
  // so the pool should be large against the number of contacts for first contacts to stay
  // mostly first contacts. Default: 100000.
  int32_t num_customers = 100'000;
  // Agents per queue (ids "agent-<queue>-<n>"). Default: 12.
  int32_t agents_per_queue = 12;
  // Queues and their media; empty means DefaultQueues(). Default: empty.
  std::vector<QueueSpec> queues;
  // Share of customers who escalate: angry turns, manager requests, threats to cancel or go to
  // the ombudsman, repeat calls within days. Default: 0.08.
  double escalating_fraction = 0.08;
  // Chance that an escalating customer contacts again after a contact. Default: 0.7.
  double repeat_contact_probability = 0.7;
  // Shortest delay before a repeat contact, in seconds (uniform up to the longest).
  // Default: 1800 (30 min).
  double repeat_delay_min_s = 1800.0;
  // Longest delay before a repeat contact, in seconds. Default: 259200 (3 days).
  double repeat_delay_max_s = 259200.0;
  // Chance that a handled contact gets a post-contact survey. Default: 0.35.
  double survey_probability = 0.35;
  // Chance that an escalating customer also sends a formal complaint e-mail
  // (ComplaintLodged) after a contact. Default: 0.25.
  double complaint_email_probability = 0.25;
  // Chance that a customer asks for their data to be erased after a handled contact
  // (ErasureRequest, recorded by the agent). Default: 0.001.
  double erasure_probability = 0.001;
};

// Generates realistic, fully deterministic contact-centre traffic: calls and chats (a few
// e-mails and social posts) on several queues with Poisson arrivals, queue waits, abandons,
// answers, turns of conversation whose text alternates customer and agent, holds, transfers,
// ends with a disposition, surveys, staff complaint flags, formal complaint e-mails, rare
// erasure requests, and escalating customers who call back. The arrival rate is calibrated at
// construction so that first contacts yield about events_per_second; repeat contacts come on
// top. Contacts still in progress at the end of the duration are cut off.
//
// Events come out in non-decreasing event time. Randomness comes only from a std::mt19937_64
// seeded with options.seed and libstdc++'s distributions (fixed toolchain), never from the wall
// clock or a global generator, so one seed and one set of options always give byte-identical
// events. Event ids are "gen-<seed>-<n>"; contact ids "gen-<seed>-c<n>".
//
// Owned by its caller; not thread-safe (one generator per thread).
class Generator {
 public:
  explicit Generator(GeneratorOptions options);

  // The next event, or nullopt once duration_s or max_events is reached.
  std::optional<v1::ContactEvent> Next();

  // True when `customer_id` is one of the escalating customers (for tests and demos).
  bool IsEscalating(const std::string& customer_id) const;

  // Events returned so far.
  int64_t events_emitted() const { return emitted_; }

  // Contact arrivals per second that the generator aims at to meet events_per_second
  // (measured once at construction from a trial run of the same contact model).
  double arrivals_per_second() const { return arrivals_per_s_; }

 private:
  struct Customer {
    std::string id;
    bool escalating = false;
    double loudness_db = 62.0;  // voice baseline
    int32_t contacts = 0;       // contacts so far
    int32_t preferred_queue = 0;
  };
  struct Pending {
    int64_t time_ms;
    uint64_t seq;  // creation order breaks ties, keeping one contact's events in order
    v1::ContactEvent event;
  };
  struct Later {
    bool operator()(const Pending& a, const Pending& b) const {
      return a.time_ms != b.time_ms ? a.time_ms > b.time_ms : a.seq > b.seq;
    }
  };
  struct Callback {
    int64_t time_ms;
    uint64_t seq;
    int32_t customer;
    int32_t queue;
  };
  struct CallbackLater {
    bool operator()(const Callback& a, const Callback& b) const {
      return a.time_ms != b.time_ms ? a.time_ms > b.time_ms : a.seq > b.seq;
    }
  };

  // Draws the arrival after `from_ms` of the Poisson process.
  int64_t NextArrivalAfter(int64_t from_ms);
  // Starts a contact of `customer` on `queue` at `time_ms`: queues all of its events (and any
  // repeat contact) and returns how many events it produced.
  int64_t StartContact(int32_t customer, int32_t queue, int64_t time_ms);
  // Schedules one event of the current contact.
  void Push(v1::ContactEvent event);

  GeneratorOptions options_;
  std::vector<QueueSpec> queues_;
  std::vector<Customer> customers_;
  std::mt19937_64 rng_;
  std::string prefix_;
  double arrivals_per_s_ = 1.0;
  int64_t end_time_ms_ = 0;  // exclusive; 0 = no limit
  int64_t next_arrival_ms_ = 0;
  int64_t contacts_ = 0;
  int64_t emitted_ = 0;
  uint64_t seq_ = 0;
  bool done_ = false;
  std::priority_queue<Pending, std::vector<Pending>, Later> pending_;
  std::priority_queue<Callback, std::vector<Callback>, CallbackLater> callbacks_;
};

}  // namespace ccstream::gen
