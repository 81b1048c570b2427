#include "processor/replay/replay.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "processor/replay/csv_reader.h"

namespace ccstream::replay {
namespace {

// Fallback wait before an abandon when a PwC file has no answered call to take a median from.
constexpr int64_t kDefaultAbandonWaitS = 60;
// Twitter's snowflake epoch (2010-11-04T01:42:54.657Z) in ms since the Unix epoch.
constexpr int64_t kTwitterEpochMs = 1'288'834'974'657;

// The Debian build of Abseil has its own string_view type; this converts at the API boundary.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Collects the events and the skip log of one load.
class Sink {
 public:
  explicit Sink(absl::string_view file_name) : file_name_(file_name) {}

  void Skip(int64_t line, absl::string_view why) {
    ++result_.stats.rows_skipped;
    result_.stats.skipped.push_back(absl::StrCat(file_name_, ":", line, ": ", why));
  }
  void CountRow() { ++result_.stats.rows_read; }
  void Add(v1::ContactEvent event) { result_.events.push_back(std::move(event)); }

  ReplayResult Finish() && {
    std::stable_sort(result_.events.begin(), result_.events.end(),
                     [](const v1::ContactEvent& a, const v1::ContactEvent& b) {
                       return a.event_time_ms() < b.event_time_ms();
                     });
    return std::move(result_);
  }

 private:
  std::string file_name_;
  ReplayResult result_;
};

// A non-negative decimal integer made of digits only that fits in an int64.
std::optional<int64_t> ParseCount(absl::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

// Builds a civil day from parts, refusing out-of-range parts (which CivilDay would normalise).
std::optional<absl::CivilDay> MakeDay(absl::string_view y, absl::string_view m,
                                      absl::string_view d) {
  const auto year = ParseCount(y);
  const auto month = ParseCount(m);
  const auto day = ParseCount(d);
  if (!year || !month || !day || y.size() != 4) return std::nullopt;
  const absl::CivilDay civil(*year, *month, *day);
  if (civil.year() != *year || civil.month() != *month || civil.day() != *day) return std::nullopt;
  return civil;
}

// "m/d/yyyy" (US order, leading zeros optional).
std::optional<absl::CivilDay> ParseUsDate(absl::string_view s) {
  const std::vector<absl::string_view> parts = absl::StrSplit(s, '/');
  if (parts.size() != 3) return std::nullopt;
  return MakeDay(parts[2], parts[0], parts[1]);
}

// "yyyy-mm-dd".
std::optional<absl::CivilDay> ParseIsoDate(absl::string_view s) {
  const std::vector<absl::string_view> parts = absl::StrSplit(s, '-');
  if (parts.size() != 3 || parts[1].size() != 2 || parts[2].size() != 2) return std::nullopt;
  return MakeDay(parts[0], parts[1], parts[2]);
}

// "h:mm:ss" → seconds since midnight.
std::optional<int64_t> ParseClock(absl::string_view s) {
  const std::vector<absl::string_view> parts = absl::StrSplit(s, ':');
  if (parts.size() != 3 || parts[1].size() != 2 || parts[2].size() != 2) return std::nullopt;
  const auto h = ParseCount(parts[0]);
  const auto m = ParseCount(parts[1]);
  const auto sec = ParseCount(parts[2]);
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 59) return std::nullopt;
  return *h * 3600 + *m * 60 + *sec;
}

int64_t DayStartMs(absl::CivilDay day) {
  return absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(day), absl::UTCTimeZone()));
}

// SplitMix64 finaliser: a fixed, well-mixed hash of a 64-bit value.
uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Lower-case ASCII letters and digits, every other run of characters one '-', no '-' at the ends.
std::string Slug(absl::string_view s) {
  std::string out;
  bool dash = false;
  for (const char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      if (dash && !out.empty()) out.push_back('-');
      dash = false;
      out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    } else {
      dash = true;
    }
  }
  return out;
}

v1::ContactEvent Envelope(std::string event_id, const std::string& contact_id,
                          const std::string& customer_id, v1::Channel channel,
                          const std::string& queue, int64_t time_ms) {
  v1::ContactEvent e;
  e.set_event_id(std::move(event_id));
  e.set_contact_id(contact_id);
  e.set_customer_id(customer_id);
  e.set_channel(channel);
  e.set_queue(queue);
  e.set_event_time_ms(time_ms);
  return e;
}

// The header of a CSV file: column name → index, checked against the columns a format needs.
absl::StatusOr<absl::flat_hash_map<std::string, size_t>> ReadHeader(
    CsvReader& reader, absl::string_view file_name, absl::string_view format_name,
    const std::vector<std::string>& required, size_t* width) {
  CsvRecord header;
  const absl::StatusOr<bool> got = reader.Next(&header);
  if (!got.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", header.line, ": not a ", format_name,
                     " file: header is malformed: ", got.status().message()));
  }
  if (!*got) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": not a ", format_name, " file: it is empty (expected a header)"));
  }
  absl::flat_hash_map<std::string, size_t> columns;
  for (size_t i = 0; i < header.fields.size(); ++i) columns.emplace(header.fields[i], i);
  std::vector<std::string> missing;
  for (const std::string& name : required) {
    if (!columns.contains(name)) missing.push_back(absl::StrCat("'", name, "'"));
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ":", header.line, ": not a ",
                                                   format_name, " file: header lacks column(s) ",
                                                   absl::StrJoin(missing, ", ")));
  }
  *width = header.fields.size();
  return columns;
}

// Reads the data records after the header; malformed ones are logged as skipped.
void ForEachRecord(CsvReader& reader, size_t width, Sink& sink,
                   const std::function<void(const CsvRecord&)>& row) {
  CsvRecord record;
  while (true) {
    const absl::StatusOr<bool> got = reader.Next(&record);
    if (got.ok() && !*got) return;
    sink.CountRow();
    if (!got.ok()) {
      sink.Skip(record.line, got.status().message());
      continue;
    }
    if (record.fields.size() != width) {
      sink.Skip(record.line,
                absl::StrCat("expected ", width, " fields, got ", record.fields.size()));
      continue;
    }
    row(record);
  }
}

// ---- pwc-calls ------------------------------------------------------------------------------

struct PwcCall {
  int64_t line = 0;
  std::string id;
  std::string agent;
  std::string topic;
  int64_t queued_ms = 0;
  bool answered = false;
  bool resolved = false;
  std::optional<int64_t> speed_s;  // wait before the answer (or before the abandon, when given)
  int64_t talk_s = 0;
  std::optional<int64_t> rating;
};

absl::StatusOr<ReplayResult> MapPwcCalls(absl::string_view text, absl::string_view file_name) {
  static const std::vector<std::string> kColumns = {"call id",       "agent",
                                                    "date",          "time",
                                                    "topic",         "answered (Y/N)",
                                                    "resolved",      "speed of answer(seconds)",
                                                    "talk duration", "satisfaction rating"};
  CsvReader reader(std::string_view(text.data(), text.size()));
  size_t width = 0;
  auto columns = ReadHeader(reader, file_name, "pwc-calls", kColumns, &width);
  if (!columns.ok()) return columns.status();
  const auto col = [&](const CsvRecord& r, const std::string& name) -> const std::string& {
    return r.fields[columns->at(name)];
  };

  Sink sink(file_name);
  std::vector<PwcCall> calls;
  std::set<std::string> seen;
  ForEachRecord(reader, width, sink, [&](const CsvRecord& r) {
    PwcCall call;
    call.line = r.line;
    call.id = std::string(absl::StripAsciiWhitespace(col(r, "call id")));
    if (call.id.empty()) return sink.Skip(r.line, "empty call id");
    if (seen.contains(call.id))
      return sink.Skip(r.line, absl::StrCat("duplicate call id '", call.id, "'"));
    const auto day = ParseUsDate(col(r, "date"));
    if (!day)
      return sink.Skip(r.line, absl::StrCat("bad date '", col(r, "date"), "' (want m/d/yyyy)"));
    const auto clock = ParseClock(col(r, "time"));
    if (!clock)
      return sink.Skip(r.line, absl::StrCat("bad time '", col(r, "time"), "' (want h:mm:ss)"));
    call.queued_ms = DayStartMs(*day) + *clock * 1000;
    const std::string& answered = col(r, "answered (Y/N)");
    if (answered != "Y" && answered != "N") {
      return sink.Skip(r.line, absl::StrCat("answered (Y/N) is '", answered, "', not Y or N"));
    }
    call.answered = answered == "Y";
    const std::string& resolved = col(r, "resolved");
    if (resolved != "Y" && resolved != "N") {
      return sink.Skip(r.line, absl::StrCat("resolved is '", resolved, "', not Y or N"));
    }
    call.resolved = resolved == "Y";
    const std::string& speed = col(r, "speed of answer(seconds)");
    if (!speed.empty()) {
      call.speed_s = ParseCount(speed);
      if (!call.speed_s)
        return sink.Skip(r.line, absl::StrCat("bad speed of answer '", speed, "'"));
    }
    call.agent = col(r, "agent");
    call.topic = col(r, "topic");
    if (call.answered) {
      if (!call.speed_s) return sink.Skip(r.line, "answered call without a speed of answer");
      const auto talk = ParseCount(col(r, "talk duration"));
      if (!talk) {
        return sink.Skip(r.line, absl::StrCat("bad talk duration '", col(r, "talk duration"), "'"));
      }
      call.talk_s = *talk;
      const std::string& rating = col(r, "satisfaction rating");
      if (!rating.empty()) {
        call.rating = ParseCount(rating);
        if (!call.rating || *call.rating < 1 || *call.rating > 5) {
          return sink.Skip(r.line, absl::StrCat("satisfaction rating '", rating, "' is not 1..5"));
        }
      }
    }
    seen.insert(call.id);
    calls.push_back(std::move(call));
  });

  // An abandoned call's row gives no wait: the caller is taken to give up after the median
  // wait of the file's answered calls (lower median), unless the row has a speed of answer.
  std::vector<int64_t> speeds;
  for (const PwcCall& c : calls) {
    if (c.answered) speeds.push_back(*c.speed_s);
  }
  int64_t abandon_wait_s = kDefaultAbandonWaitS;
  if (!speeds.empty()) {
    std::sort(speeds.begin(), speeds.end());
    abandon_wait_s = speeds[(speeds.size() - 1) / 2];
  }

  for (const PwcCall& c : calls) {
    const std::string customer = absl::StrCat("pwc-caller-", c.id);
    const std::string prefix = absl::StrCat("pwc-", c.id, "-");
    auto make = [&](absl::string_view kind, int64_t time_ms) {
      return Envelope(absl::StrCat(prefix, kind), c.id, customer, v1::VOICE, c.topic, time_ms);
    };
    v1::ContactEvent queued = make("queued", c.queued_ms);
    queued.mutable_queued();
    sink.Add(std::move(queued));
    if (!c.answered) {
      v1::ContactEvent abandoned =
          make("abandoned", c.queued_ms + c.speed_s.value_or(abandon_wait_s) * 1000);
      abandoned.mutable_abandoned();
      sink.Add(std::move(abandoned));
      continue;
    }
    const int64_t answered_ms = c.queued_ms + *c.speed_s * 1000;
    v1::ContactEvent answered = make("answered", answered_ms);
    answered.set_agent_id(c.agent);
    answered.mutable_answered();
    sink.Add(std::move(answered));
    const int64_t ended_ms = answered_ms + c.talk_s * 1000;
    v1::ContactEvent ended = make("ended", ended_ms);
    ended.set_agent_id(c.agent);
    ended.mutable_ended()->set_resolved(c.resolved);
    sink.Add(std::move(ended));
    if (c.rating) {
      v1::ContactEvent survey = make("survey", ended_ms + 1000);
      survey.set_agent_id(c.agent);
      survey.mutable_survey()->set_csat(static_cast<int32_t>(*c.rating));
      sink.Add(std::move(survey));
    }
  }
  return std::move(sink).Finish();
}

// ---- ibm-conversations ----------------------------------------------------------------------

// The 1-based line on which each element of the top-level JSON array starts. `text` must be
// valid JSON whose top level is an array.
std::vector<int64_t> TopLevelElementLines(absl::string_view text) {
  std::vector<int64_t> lines;
  int64_t line = 1;
  int depth = 0;
  bool in_string = false;
  bool expect_value = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (depth == 1 && expect_value && c != ']') {
      lines.push_back(line);
      expect_value = false;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        ++depth;
        if (depth == 1) expect_value = true;
        break;
      case ']':
      case '}':
        --depth;
        break;
      case ',':
        if (depth == 1) expect_value = true;
        break;
      default:
        break;
    }
  }
  return lines;
}

std::optional<int64_t> ParseIsoTimeMs(const std::string& s) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return std::nullopt;
  return absl::ToUnixMillis(t);
}

// A string member of a JSON object, or nullopt when absent or not a string.
std::optional<std::string> StringMember(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

struct IbmTurn {
  v1::Speaker speaker = v1::SPEAKER_UNSPECIFIED;
  std::string handle;
  std::string text;
  int64_t time_ms = 0;
};

absl::StatusOr<ReplayResult> MapIbmConversations(absl::string_view text,
                                                 absl::string_view file_name) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": not an ibm-conversations file: not JSON: ", e.what()));
  }
  if (!doc.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": not an ibm-conversations file: the top level is not an array"));
  }
  if (!doc.empty() && std::none_of(doc.begin(), doc.end(), [](const nlohmann::json& c) {
        return c.is_object() && c.contains("dialogHeader") && c.contains("dialogContent");
      })) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name,
        ": not an ibm-conversations file: no element has dialogHeader and dialogContent"));
  }
  const std::vector<int64_t> lines = TopLevelElementLines(text);

  Sink sink(file_name);
  std::set<std::string> seen;
  for (size_t index = 0; index < doc.size(); ++index) {
    const nlohmann::json& conv = doc[index];
    const int64_t line = index < lines.size() ? lines[index] : 0;
    sink.CountRow();
    if (!conv.is_object()) {
      sink.Skip(line, "conversation is not an object");
      continue;
    }
    const auto header = conv.find("dialogHeader");
    if (header == conv.end() || !header->is_object()) {
      sink.Skip(line, "no dialogHeader object");
      continue;
    }
    const std::optional<std::string> session = StringMember(*header, "sessionID");
    if (!session || session->empty()) {
      sink.Skip(line, "no dialogHeader.sessionID");
      continue;
    }
    if (seen.contains(*session)) {
      sink.Skip(line, absl::StrCat("duplicate sessionID '", *session, "'"));
      continue;
    }
    const std::string company = StringMember(*header, "company").value_or("");
    const auto content = conv.find("dialogContent");
    if (content == conv.end() || !content->is_array() || content->empty()) {
      sink.Skip(line, absl::StrCat("conversation '", *session, "' has no dialogContent turns"));
      continue;
    }

    std::vector<IbmTurn> turns;
    std::string problem;
    for (size_t t = 0; t < content->size() && problem.empty(); ++t) {
      const nlohmann::json& entry = (*content)[t];
      IbmTurn turn;
      if (!entry.is_object()) {
        problem = absl::StrCat("turn ", t + 1, " is not an object");
        break;
      }
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) continue;
        if (key == "agent") {
          turn.speaker = v1::AGENT;
          turn.handle = value.get<std::string>();
        } else if (key.rfind("client", 0) == 0) {
          turn.speaker = v1::CUSTOMER;
          turn.handle = value.get<std::string>();
        }
      }
      if (turn.speaker == v1::SPEAKER_UNSPECIFIED) {
        problem = absl::StrCat("turn ", t + 1, " has neither a client nor an agent");
        break;
      }
      const std::optional<std::string> datetime = StringMember(entry, "datetime");
      const std::optional<int64_t> time_ms =
          datetime ? ParseIsoTimeMs(*datetime) : std::optional<int64_t>();
      if (!time_ms) {
        problem = absl::StrCat("turn ", t + 1, " has a bad datetime '", datetime.value_or(""), "'");
        break;
      }
      if (!turns.empty() && *time_ms < turns.back().time_ms) {
        problem = absl::StrCat("turn ", t + 1, " is earlier than the turn before it");
        break;
      }
      turn.time_ms = *time_ms;
      turn.text = StringMember(entry, "message").value_or("");
      turns.push_back(std::move(turn));
    }
    if (!problem.empty()) {
      sink.Skip(line, absl::StrCat("conversation '", *session, "': ", problem));
      continue;
    }
    if (turns.front().speaker != v1::CUSTOMER) {
      sink.Skip(line, absl::StrCat("conversation '", *session, "' does not start with a client"));
      continue;
    }

    // The agent's reply with a link carries no datetime; its tweet id (a Twitter snowflake)
    // encodes when it was posted. Without a usable id it goes 1 s after the last timed turn.
    const auto url = conv.find("agentURL");
    if (url != conv.end()) {
      const std::optional<std::string> utterance = StringMember(*url, "url_utterance");
      if (utterance && !utterance->empty()) {
        IbmTurn reply;
        reply.speaker = v1::AGENT;
        reply.handle = company;
        reply.text = *utterance;
        reply.time_ms = turns.back().time_ms + 1000;
        const std::optional<std::string> tweet = StringMember(*url, "tweet_ID");
        const std::optional<int64_t> id = tweet ? ParseCount(*tweet) : std::nullopt;
        if (id) {
          const int64_t posted_ms = (*id >> 22) + kTwitterEpochMs;
          if (posted_ms >= turns.back().time_ms) reply.time_ms = posted_ms;
        }
        turns.push_back(std::move(reply));
      }
    }

    seen.insert(*session);
    const std::string& customer = turns.front().handle;
    const std::string prefix = absl::StrCat("ibm-", *session, "-");
    v1::ContactEvent queued = Envelope(absl::StrCat(prefix, "queued"), *session, customer,
                                       v1::SOCIAL, company, turns.front().time_ms);
    queued.mutable_queued();
    sink.Add(std::move(queued));
    std::string last_agent;
    for (size_t t = 0; t < turns.size(); ++t) {
      const IbmTurn& turn = turns[t];
      v1::ContactEvent event = Envelope(absl::StrCat(prefix, "turn-", t + 1), *session, customer,
                                        v1::SOCIAL, company, turn.time_ms);
      if (turn.speaker == v1::AGENT) {
        event.set_agent_id(turn.handle);
        last_agent = turn.handle;
      }
      event.mutable_turn()->set_speaker(turn.speaker);
      event.mutable_turn()->set_text(turn.text);
      sink.Add(std::move(event));
    }
    v1::ContactEvent ended = Envelope(absl::StrCat(prefix, "ended"), *session, customer, v1::SOCIAL,
                                      company, turns.back().time_ms + 1000);
    ended.set_agent_id(last_agent);
    ended.mutable_ended()->set_resolved(false);
    sink.Add(std::move(ended));
  }
  return std::move(sink).Finish();
}

// ---- cfpb-complaints ------------------------------------------------------------------------

v1::Channel CfpbChannel(absl::string_view submitted_via) {
  return submitted_via == "Phone" ? v1::VOICE : v1::EMAIL;
}

absl::StatusOr<ReplayResult> MapCfpbComplaints(absl::string_view text,
                                               absl::string_view file_name) {
  static const std::vector<std::string> kColumns = {
      "Date received", "Product", "Issue", "Company", "Submitted via", "Complaint ID"};
  CsvReader reader(std::string_view(text.data(), text.size()));
  size_t width = 0;
  auto columns = ReadHeader(reader, file_name, "cfpb-complaints", kColumns, &width);
  if (!columns.ok()) return columns.status();
  const auto col = [&](const CsvRecord& r, const std::string& name) -> const std::string& {
    return r.fields[columns->at(name)];
  };

  Sink sink(file_name);
  std::set<std::string> seen;
  ForEachRecord(reader, width, sink, [&](const CsvRecord& r) {
    const std::string& id_text = col(r, "Complaint ID");
    const std::optional<int64_t> id = ParseCount(id_text);
    if (!id) return sink.Skip(r.line, absl::StrCat("bad Complaint ID '", id_text, "'"));
    if (seen.contains(id_text)) {
      return sink.Skip(r.line, absl::StrCat("duplicate Complaint ID '", id_text, "'"));
    }
    const std::optional<absl::CivilDay> day = ParseIsoDate(col(r, "Date received"));
    if (!day) {
      return sink.Skip(r.line, absl::StrCat("bad Date received '", col(r, "Date received"),
                                            "' (want yyyy-mm-dd)"));
    }
    seen.insert(id_text);
    // The data is day-level: each complaint gets a fixed pseudo-random second of its day.
    const int64_t second_of_day = static_cast<int64_t>(Mix64(static_cast<uint64_t>(*id)) % 86400);
    const std::string& product = col(r, "Product");
    const std::string queue = product.empty() ? std::string("uncategorized") : Slug(product);
    v1::ContactEvent event =
        Envelope(absl::StrCat("cfpb-", id_text, "-lodged"), absl::StrCat("cfpb-", id_text),
                 absl::StrCat("cfpb-consumer-", id_text), CfpbChannel(col(r, "Submitted via")),
                 queue, DayStartMs(*day) + second_of_day * 1000);
    v1::ComplaintLodged* lodged = event.mutable_complaint_lodged();
    lodged->set_category(product);
    lodged->set_issue(col(r, "Issue"));
    lodged->set_company(col(r, "Company"));
    sink.Add(std::move(event));
  });
  return std::move(sink).Finish();
}

}  // namespace

absl::StatusOr<ReplayFormat> ParseReplayFormat(std::string_view name) {
  for (const ReplayFormat f :
       {ReplayFormat::kPwcCalls, ReplayFormat::kIbmConversations, ReplayFormat::kCfpbComplaints}) {
    if (name == ReplayFormatName(f)) return f;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown replay format '", Absl(name),
                   "' (accepted: pwc-calls, ibm-conversations, cfpb-complaints)"));
}

std::string_view ReplayFormatName(ReplayFormat format) {
  switch (format) {
    case ReplayFormat::kPwcCalls:
      return "pwc-calls";
    case ReplayFormat::kIbmConversations:
      return "ibm-conversations";
    case ReplayFormat::kCfpbComplaints:
      return "cfpb-complaints";
  }
  return "unknown";
}

absl::StatusOr<ReplayResult> ParseReplay(ReplayFormat format, std::string_view text,
                                         std::string_view file_name) {
  switch (format) {
    case ReplayFormat::kPwcCalls:
      return MapPwcCalls(Absl(text), Absl(file_name));
    case ReplayFormat::kIbmConversations:
      return MapIbmConversations(Absl(text), Absl(file_name));
    case ReplayFormat::kCfpbComplaints:
      return MapCfpbComplaints(Absl(text), Absl(file_name));
  }
  return absl::InvalidArgumentError("unknown replay format");
}

absl::StatusOr<ReplayResult> LoadReplay(ReplayFormat format, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the file"));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat(path, ": cannot read the file"));
  return ParseReplay(format, buffer.str(), path);
}

}  // namespace ccstream::replay
