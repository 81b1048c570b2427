// fault_tool: the Kafka side of the fault-injection tests (tests/fault/*.sh).
//
//   fault_tool dump --bootstrap B --topic T [--timeout-s S] [--fields 1]
//     Reads T to its end as a read_committed consumer (no group) and prints one line per record,
//     `alert_id<TAB>sha256(value)`, sorted; with `--fields 1` instead
//     `alert_id<TAB>kind<TAB>case_id<TAB>milestone<TAB>contact_id`. The alert_id is the header
//     `ccstream.alert_id`, else the Alert's own field. On stderr: `records=N distinct=M
//     duplicates=D`. Exit 0, or 1 when the topic cannot be read to its end within the timeout
//     (default 120 s).
//
//   fault_tool watch --bootstrap B --topic T --count N [--timeout-s S]
//     Follows T (read_committed, from the beginning) and prints, as each record arrives,
//     `recv_ms<TAB>alert_id<TAB>kind<TAB>case_id<TAB>milestone<TAB>deadline_ms<TAB>fraction`.
//     Exits 0 once N records were read, 1 when the timeout (default 60 s) passes first.
//
//   fault_tool complaint --bootstrap B --topic T --customer C --event-id E --time-ms MS
//     Produces one ContactEvent with a `complaint_lodged` payload (key = the customer id) and
//     waits for its delivery. Exit 0 when delivered.
//
//   fault_tool contact --bootstrap B --topic T --customer C --contact K [--queue Q]
//     Produces one escalating voice contact (key = the customer id), event times = now: `queued`,
//     `answered`, then three angry customer turns that ask for a manager/supervisor and say it is
//     the third time they call (cues escalation_phrase and repeated_dissatisfaction: an
//     ESCALATION alert follows). Waits for every delivery; prints the first event time. Exit 0
//     when all were delivered.
//
//   fault_tool steal --bootstrap B --topic T --group G --instance I [--timeout-s S]
//     Joins group G on T as a static member with group.instance.id I (cooperative-sticky, no
//     offset commits), waits for its assignment, and closes without leaving: the running member
//     with the same instance id is fenced (FENCED_INSTANCE_ID) at its next request. Exit 0 once
//     assigned, 1 when not assigned within the timeout (default 60 s).
//
// A test tool: single-threaded, no state between calls.
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "alert.pb.h"
#include "events.pb.h"
#include "librdkafka/rdkafkacpp.h"

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Sha256Hex(const void* data, size_t size) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

struct Args {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
};

bool ParseArgs(int argc, char** argv, Args& args) {
  int i = 2;
  while (i < argc) {
    if (std::strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) return false;
    args.values[argv[i] + 2] = argv[i + 1];
    i += 2;
  }
  return true;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "fault_tool: %s\n", message.c_str());
  std::exit(1);
}

std::unique_ptr<RdKafka::Conf> ConsumerConf(const std::string& bootstrap) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  const std::map<std::string, std::string> props = {
      {"bootstrap.servers", bootstrap}, {"group.id", "fault-tool-unused"},
      {"enable.auto.commit", "false"},  {"isolation.level", "read_committed"},
      {"enable.partition.eof", "true"}, {"auto.offset.reset", "earliest"},
      {"fetch.wait.max.ms", "50"},
  };
  for (const auto& [key, value] : props) {
    if (conf->set(key, value, error) != RdKafka::Conf::CONF_OK) {
      std::string message = key;
      message += ": ";
      message += error;
      Die(message);
    }
  }
  return conf;
}

// A consumer assigned to every partition of `topic` from the beginning; returns the count.
std::unique_ptr<RdKafka::KafkaConsumer> AssignAll(const std::string& bootstrap,
                                                  const std::string& topic, int timeout_s,
                                                  int* partitions) {
  std::string error;
  auto conf = ConsumerConf(bootstrap);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) Die("consumer: " + error);
  const int64_t deadline = NowMs() + timeout_s * 1000LL;
  std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(consumer.get(), topic, nullptr, error));
  for (;;) {
    RdKafka::Metadata* raw = nullptr;
    const RdKafka::ErrorCode code = consumer->metadata(false, handle.get(), &raw, 5000);
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    if (code == RdKafka::ERR_NO_ERROR && metadata->topics()->size() == 1 &&
        metadata->topics()->at(0)->err() == RdKafka::ERR_NO_ERROR &&
        !metadata->topics()->at(0)->partitions()->empty()) {
      *partitions = static_cast<int>(metadata->topics()->at(0)->partitions()->size());
      break;
    }
    if (NowMs() > deadline) Die("no metadata for topic " + topic);
  }
  std::vector<RdKafka::TopicPartition*> assignment;
  assignment.reserve(static_cast<size_t>(*partitions));
  for (int p = 0; p < *partitions; ++p) {
    assignment.push_back(
        RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  const RdKafka::ErrorCode code = consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (code != RdKafka::ERR_NO_ERROR) Die("assign: " + RdKafka::err2str(code));
  return consumer;
}

std::string AlertId(RdKafka::Message& m, const ccstream::v1::Alert& alert) {
  if (RdKafka::Headers* headers = m.headers(); headers != nullptr) {
    RdKafka::Headers::Header h = headers->get_last("ccstream.alert_id");
    if (h.err() == RdKafka::ERR_NO_ERROR && h.value() != nullptr) {
      return std::string(static_cast<const char*>(h.value()), h.value_size());
    }
  }
  return alert.alert_id();
}

int Dump(const Args& args) {
  const int timeout_s = std::stoi(args.Get("timeout-s", "120"));
  int partitions = 0;
  auto consumer = AssignAll(args.Get("bootstrap"), args.Get("topic"), timeout_s, &partitions);
  const int64_t deadline = NowMs() + timeout_s * 1000LL;
  std::set<int32_t> at_end;
  std::vector<std::string> lines;
  std::map<std::string, int> per_id;
  while (static_cast<int>(at_end.size()) < partitions) {
    if (NowMs() > deadline) Die("topic not read to its end within the timeout");
    std::unique_ptr<RdKafka::Message> m(consumer->consume(500));
    switch (m->err()) {
      case RdKafka::ERR_NO_ERROR: {
        at_end.erase(m->partition());
        ccstream::v1::Alert alert;
        if (!alert.ParseFromArray(m->payload(), static_cast<int>(m->len()))) {
          Die("undecodable alert at partition " + std::to_string(m->partition()) + " offset " +
              std::to_string(m->offset()));
        }
        const std::string id = AlertId(*m, alert);
        ++per_id[id];
        if (args.Get("fields") == "1") {
          lines.push_back(id + "\t" + ccstream::v1::AlertKind_Name(alert.kind()) + "\t" +
                          alert.case_id() + "\t" + alert.milestone() + "\t" + alert.contact_id());
        } else {
          lines.push_back(id + "\t" + Sha256Hex(m->payload(), m->len()));
        }
        break;
      }
      case RdKafka::ERR__PARTITION_EOF:
        at_end.insert(m->partition());
        break;
      case RdKafka::ERR__TIMED_OUT:
        break;
      default:
        std::fprintf(stderr, "fault_tool: consumer: %s\n", m->errstr().c_str());
        break;
    }
  }
  consumer->close();
  std::sort(lines.begin(), lines.end());
  for (const std::string& line : lines) std::printf("%s\n", line.c_str());
  int duplicates = 0;
  for (const auto& [id, count] : per_id) duplicates += count - 1;
  std::fprintf(stderr, "records=%zu distinct=%zu duplicates=%d\n", lines.size(), per_id.size(),
               duplicates);
  return 0;
}

int Watch(const Args& args) {
  const int timeout_s = std::stoi(args.Get("timeout-s", "60"));
  const long count = std::stol(args.Get("count", "1"));
  int partitions = 0;
  auto consumer = AssignAll(args.Get("bootstrap"), args.Get("topic"), timeout_s, &partitions);
  const int64_t deadline = NowMs() + timeout_s * 1000LL;
  long seen = 0;
  while (seen < count) {
    if (NowMs() > deadline) {
      std::fprintf(stderr, "fault_tool: %ld of %ld records within %d s\n", seen, count, timeout_s);
      return 1;
    }
    std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    const int64_t received = NowMs();
    ccstream::v1::Alert alert;
    if (!alert.ParseFromArray(m->payload(), static_cast<int>(m->len()))) Die("undecodable alert");
    std::printf("%lld\t%s\t%s\t%s\t%s\t%lld\t%.6f\n", static_cast<long long>(received),
                AlertId(*m, alert).c_str(), ccstream::v1::AlertKind_Name(alert.kind()).c_str(),
                alert.case_id().c_str(), alert.milestone().c_str(),
                static_cast<long long>(alert.deadline_ms()), alert.fraction());
    std::fflush(stdout);
    ++seen;
  }
  consumer->close();
  return 0;
}

class DeliveryCheck : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    done = true;
    error = message.err();
  }
  bool done = false;
  RdKafka::ErrorCode error = RdKafka::ERR_NO_ERROR;
};

int Complaint(const Args& args) {
  ccstream::v1::ContactEvent event;
  event.set_event_id(args.Get("event-id", "fault-complaint-1"));
  event.set_contact_id(args.Get("contact", "fault-contact-1"));
  event.set_customer_id(args.Get("customer", "fault-customer-1"));
  event.set_channel(ccstream::v1::EMAIL);
  event.set_queue(args.Get("queue", "billing"));
  event.set_event_time_ms(std::stoll(args.Get("time-ms", std::to_string(NowMs()))));
  event.mutable_complaint_lodged()->set_category(args.Get("category", "billing"));
  event.mutable_complaint_lodged()->set_issue("charged twice");
  const std::string value = event.SerializeAsString();

  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  DeliveryCheck check;
  if (conf->set("bootstrap.servers", args.Get("bootstrap"), error) != RdKafka::Conf::CONF_OK ||
      conf->set("dr_cb", &check, error) != RdKafka::Conf::CONF_OK) {
    Die(error);
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  if (!producer) Die("producer: " + error);
  const std::string key = event.customer_id();
  const RdKafka::ErrorCode code = producer->produce(
      args.Get("topic"), RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
      const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, nullptr);
  if (code != RdKafka::ERR_NO_ERROR) Die("produce: " + RdKafka::err2str(code));
  producer->flush(30'000);
  if (!check.done || check.error != RdKafka::ERR_NO_ERROR) {
    Die("not delivered: " + RdKafka::err2str(check.error));
  }
  std::printf("%lld\n", static_cast<long long>(event.event_time_ms()));
  return 0;
}

class DeliveryCount : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      ++ok;
    } else {
      error = message.err();
    }
  }
  int ok = 0;
  RdKafka::ErrorCode error = RdKafka::ERR_NO_ERROR;
};

// One live contact that escalates: queued, answered, three angry customer turns.
int Contact(const Args& args) {
  const std::string customer = args.Get("customer", "fault-customer-1");
  const std::string contact = args.Get("contact", "fault-contact-1");
  const std::string queue = args.Get("queue", "billing");
  static const char* const kTurns[] = {
      "This is the third time I have called about this and it is still not fixed. I am furious, "
      "this is absolutely terrible and disgusting service!",
      "I want to speak to a manager now. Get me your supervisor, this is an outrageous, useless "
      "disgrace and I am sick of it!",
      "Third time calling, third time ignored. Awful, pathetic, horrible company. Put me through "
      "to a supervisor immediately, I am angry and fed up!",
  };
  std::vector<ccstream::v1::ContactEvent> events;
  const int64_t start_ms = NowMs();
  auto next = [&](const std::string& suffix) -> ccstream::v1::ContactEvent& {
    ccstream::v1::ContactEvent& event = events.emplace_back();
    event.set_event_id(contact + "-" + suffix);
    event.set_contact_id(contact);
    event.set_customer_id(customer);
    event.set_channel(ccstream::v1::VOICE);
    event.set_queue(queue);
    event.set_event_time_ms(std::max(start_ms, NowMs()));
    return event;
  };
  next("queued").mutable_queued()->set_priority(1);
  ccstream::v1::ContactEvent& answered = next("answered");
  answered.set_agent_id("fault-agent-1");
  answered.mutable_answered();
  int index = 0;
  for (const char* text : kTurns) {
    ccstream::v1::ContactEvent& turn = next("turn-" + std::to_string(++index));
    turn.set_agent_id("fault-agent-1");
    turn.mutable_turn()->set_speaker(ccstream::v1::CUSTOMER);
    turn.mutable_turn()->set_text(text);
  }

  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  DeliveryCount delivered;
  if (conf->set("bootstrap.servers", args.Get("bootstrap"), error) != RdKafka::Conf::CONF_OK ||
      conf->set("dr_cb", &delivered, error) != RdKafka::Conf::CONF_OK ||
      conf->set("enable.idempotence", "true", error) != RdKafka::Conf::CONF_OK ||
      conf->set("linger.ms", "0", error) != RdKafka::Conf::CONF_OK) {
    Die(error);
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  if (!producer) Die("producer: " + error);
  for (const ccstream::v1::ContactEvent& event : events) {
    const std::string value = event.SerializeAsString();
    const RdKafka::ErrorCode code =
        producer->produce(args.Get("topic"), RdKafka::Topic::PARTITION_UA,
                          RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                          value.size(), customer.data(), customer.size(), 0, nullptr);
    if (code != RdKafka::ERR_NO_ERROR) Die("produce: " + RdKafka::err2str(code));
  }
  producer->flush(30'000);
  if (delivered.ok != static_cast<int>(events.size())) {
    Die("delivered " + std::to_string(delivered.ok) + " of " + std::to_string(events.size()) +
        " events: " + RdKafka::err2str(delivered.error));
  }
  std::printf("%lld\n", static_cast<long long>(start_ms));
  return 0;
}

class AssignLogger : public RdKafka::RebalanceCb {
 public:
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    std::unique_ptr<RdKafka::Error> error(err == RdKafka::ERR__ASSIGN_PARTITIONS
                                              ? consumer->incremental_assign(partitions)
                                              : consumer->incremental_unassign(partitions));
    if (error) Die("rebalance: " + error->str());
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) assigned += static_cast<int>(partitions.size());
  }
  int assigned = 0;
};

int Steal(const Args& args) {
  const int timeout_s = std::stoi(args.Get("timeout-s", "60"));
  auto conf = ConsumerConf(args.Get("bootstrap"));
  AssignLogger rebalance;
  std::string error;
  if (conf->set("group.id", args.Get("group"), error) != RdKafka::Conf::CONF_OK ||
      conf->set("group.instance.id", args.Get("instance"), error) != RdKafka::Conf::CONF_OK ||
      conf->set("partition.assignment.strategy", "cooperative-sticky", error) !=
          RdKafka::Conf::CONF_OK ||
      conf->set("rebalance_cb", &rebalance, error) != RdKafka::Conf::CONF_OK) {
    Die(error);
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) Die("consumer: " + error);
  if (consumer->subscribe({args.Get("topic")}) != RdKafka::ERR_NO_ERROR) Die("subscribe failed");
  const int64_t deadline = NowMs() + timeout_s * 1000LL;
  while (rebalance.assigned == 0) {
    if (NowMs() > deadline) {
      std::fprintf(stderr, "fault_tool: no assignment within %d s\n", timeout_s);
      return 1;
    }
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    // Records are not processed and no offset is committed: the tool only takes the identity.
  }
  std::fprintf(stderr, "fault_tool: assigned %d partition(s) as %s\n", rebalance.assigned,
               args.Get("instance").c_str());
  consumer->close();  // a static member does not leave the group on close
  return 0;
}

// Prints each partition's end as a read_committed consumer sees it (the last stable offset) and
// as written (the high watermark): a partition whose two differ has a transaction open (a
// failure's diagnosis: committed alerts held back, not lost).
int Ends(const Args& args) {
  int partitions = 0;
  auto committed = AssignAll(args.Get("bootstrap"), args.Get("topic"), 30, &partitions);
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (conf->set("bootstrap.servers", args.Get("bootstrap"), error) != RdKafka::Conf::CONF_OK ||
      conf->set("isolation.level", "read_uncommitted", error) != RdKafka::Conf::CONF_OK) {
    Die(error);
  }
  std::unique_ptr<RdKafka::Consumer> written(RdKafka::Consumer::create(conf.get(), error));
  if (!written) Die("consumer: " + error);
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, stable = -1, high = -1;
    RdKafka::ErrorCode a = RdKafka::ERR_NO_ERROR, b = RdKafka::ERR_NO_ERROR;
    // A broker just started may answer without a leader for a few seconds.
    for (int attempt = 0; attempt < 20; ++attempt) {
      a = committed->query_watermark_offsets(args.Get("topic"), p, &low, &stable, 10'000);
      b = written->query_watermark_offsets(args.Get("topic"), p, &low, &high, 10'000);
      if (a == RdKafka::ERR_NO_ERROR && b == RdKafka::ERR_NO_ERROR) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    std::printf("%s[%d]: stable end %lld%s, high watermark %lld%s%s\n", args.Get("topic").c_str(),
                p, static_cast<long long>(stable),
                a == RdKafka::ERR_NO_ERROR ? "" : (" (" + RdKafka::err2str(a) + ")").c_str(),
                static_cast<long long>(high),
                b == RdKafka::ERR_NO_ERROR ? "" : (" (" + RdKafka::err2str(b) + ")").c_str(),
                stable < high ? "  <- a transaction is open" : "");
  }
  committed->close();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (argc < 2 || !ParseArgs(argc, argv, args) || args.Get("bootstrap").empty() ||
      args.Get("topic").empty()) {
    std::fprintf(
        stderr,
        "usage: fault_tool dump|watch|ends|complaint|contact|steal --bootstrap B --topic T "
        "[options]\n");
    return 2;
  }
  const std::string command = argv[1];
  if (command == "dump") return Dump(args);
  if (command == "watch") return Watch(args);
  if (command == "ends") return Ends(args);
  if (command == "complaint") return Complaint(args);
  if (command == "contact") return Contact(args);
  if (command == "steal") return Steal(args);
  std::fprintf(stderr, "fault_tool: unknown command %s\n", command.c_str());
  return 2;
}
