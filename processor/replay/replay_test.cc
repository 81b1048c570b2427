#include "processor/replay/replay.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "processor/ingest/validate.h"

namespace ccstream::replay {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kDatasets = CCSTREAM_DATASETS_DIR;
const std::string kPwcPath = kDatasets + "/calls_pwc/call_center_dataset_pwc.csv";
const std::string kIbmPath = kDatasets + "/conversations_ibm/dev.json";
const std::string kCfpbPath = kDatasets + "/complaints_cfpb/complaints_sample.csv";

std::string Message(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::map<v1::ContactEvent::PayloadCase, int64_t> CountKinds(
    const std::vector<v1::ContactEvent>& events) {
  std::map<v1::ContactEvent::PayloadCase, int64_t> counts;
  for (const auto& e : events) ++counts[e.payload_case()];
  return counts;
}

int64_t UtcMs(int y, int mo, int d, int h, int mi, int s) {
  return absl::ToUnixMillis(
      absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone()));
}

// The properties every replay must have: sorted by time, unique ids, every event passes the
// processor's own input validation (envelope fields, payload, value ranges).
void ExpectWellFormed(const ReplayResult& result) {
  std::set<std::string> ids;
  ingest::ValidationLimits limits;
  const int64_t far_future_ms = UtcMs(2100, 1, 1, 0, 0, 0);
  for (size_t i = 0; i < result.events.size(); ++i) {
    const v1::ContactEvent& e = result.events[i];
    if (i > 0) {
      ASSERT_LE(result.events[i - 1].event_time_ms(), e.event_time_ms()) << i;
    }
    ASSERT_TRUE(ids.insert(e.event_id()).second) << "duplicate id " << e.event_id();
    const ingest::Verdict verdict = ingest::Validate(e, far_future_ms, limits);
    ASSERT_TRUE(verdict.ok()) << e.ShortDebugString() << ": " << verdict.detail;
    ASSERT_NE(e.channel(), v1::CHANNEL_UNSPECIFIED) << e.ShortDebugString();
    ASSERT_FALSE(e.queue().empty()) << e.ShortDebugString();
  }
}

TEST(ReplayFormatTest, ParsesTheThreeNamesAndRefusesOthers) {
  EXPECT_EQ(*ParseReplayFormat("pwc-calls"), ReplayFormat::kPwcCalls);
  EXPECT_EQ(*ParseReplayFormat("ibm-conversations"), ReplayFormat::kIbmConversations);
  EXPECT_EQ(*ParseReplayFormat("cfpb-complaints"), ReplayFormat::kCfpbComplaints);
  const auto bad = ParseReplayFormat("pwc");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(Message(bad.status()), HasSubstr("pwc-calls"));
  for (const ReplayFormat f :
       {ReplayFormat::kPwcCalls, ReplayFormat::kIbmConversations, ReplayFormat::kCfpbComplaints}) {
    EXPECT_EQ(*ParseReplayFormat(ReplayFormatName(f)), f);
  }
}

// ---- pwc-calls against the real file ---------------------------------------------------------

// KPI figures computed straight from the CSV text (plain comma split: the file has no quotes).
struct PwcFigures {
  int64_t offered = 0;
  int64_t answered = 0;
  int64_t answered_within_20s = 0;
  int64_t abandoned = 0;
  int64_t resolved_answered = 0;
  std::map<int, int64_t> csat;
  std::map<std::string, int64_t> queued_ms;  // call id → arrival
};

PwcFigures FiguresFromCsv(const std::string& text) {
  PwcFigures f;
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string line = lines[i];
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::vector<std::string> c = absl::StrSplit(line, ',');
    ++f.offered;
    int mo = 0, d = 0, y = 0, h = 0, mi = 0, s = 0;
    std::sscanf(c[2].c_str(), "%d/%d/%d", &mo, &d, &y);
    std::sscanf(c[3].c_str(), "%d:%d:%d", &h, &mi, &s);
    f.queued_ms[c[0]] = UtcMs(y, mo, d, h, mi, s);
    if (c[5] == "Y") {
      ++f.answered;
      if (std::stoi(c[7]) <= 20) ++f.answered_within_20s;
      if (c[6] == "Y") ++f.resolved_answered;
      if (!c[9].empty()) ++f.csat[std::stoi(c[9])];
    } else {
      ++f.abandoned;
    }
  }
  return f;
}

TEST(PwcCallsTest, MappedEventsPreserveTheKpiFiguresOfTheCsv) {
  const PwcFigures want = FiguresFromCsv(ReadFile(kPwcPath));
  ASSERT_GT(want.offered, 0);
  const auto result = LoadReplay(ReplayFormat::kPwcCalls, kPwcPath);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.rows_read, want.offered);
  EXPECT_EQ(result->stats.rows_skipped, 0);
  ExpectWellFormed(*result);

  PwcFigures got;
  std::map<std::string, int64_t> queued_at;
  for (const auto& e : result->events) {
    EXPECT_EQ(e.channel(), v1::VOICE);
    switch (e.payload_case()) {
      case v1::ContactEvent::kQueued:
        ++got.offered;
        queued_at[e.contact_id()] = e.event_time_ms();
        got.queued_ms[e.contact_id()] = e.event_time_ms();
        break;
      case v1::ContactEvent::kAnswered:
        ++got.answered;
        ASSERT_TRUE(queued_at.contains(e.contact_id())) << "answered before queued";
        if (e.event_time_ms() - queued_at[e.contact_id()] <= 20'000) ++got.answered_within_20s;
        break;
      case v1::ContactEvent::kAbandoned:
        ++got.abandoned;
        ASSERT_TRUE(queued_at.contains(e.contact_id())) << "abandoned before queued";
        break;
      case v1::ContactEvent::kEnded:
        if (e.ended().resolved()) ++got.resolved_answered;
        break;
      case v1::ContactEvent::kSurvey:
        ++got.csat[e.survey().csat()];
        break;
      default:
        ADD_FAILURE() << "unexpected payload " << e.ShortDebugString();
    }
  }
  EXPECT_EQ(got.offered, want.offered);
  EXPECT_EQ(got.answered, want.answered);
  EXPECT_EQ(got.answered_within_20s, want.answered_within_20s);
  EXPECT_EQ(got.abandoned, want.abandoned);
  EXPECT_EQ(got.resolved_answered, want.resolved_answered);
  EXPECT_EQ(got.csat, want.csat);
  EXPECT_EQ(got.queued_ms, want.queued_ms);
  const auto kinds = CountKinds(result->events);
  EXPECT_EQ(kinds.at(v1::ContactEvent::kEnded), want.answered);
}

TEST(PwcCallsTest, TwoLoadsGiveIdenticalEvents) {
  const auto a = LoadReplay(ReplayFormat::kPwcCalls, kPwcPath);
  const auto b = LoadReplay(ReplayFormat::kPwcCalls, kPwcPath);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->events.size(), b->events.size());
  for (size_t i = 0; i < a->events.size(); ++i) {
    ASSERT_EQ(a->events[i].SerializeAsString(), b->events[i].SerializeAsString()) << i;
  }
}

constexpr char kPwcHeader[] =
    "call id,agent,date,time,topic,answered (Y/N),resolved,speed of answer(seconds),"
    "talk duration,satisfaction rating\r\n";

TEST(PwcCallsTest, AnsweredCallTimesFollowSpeedAndTalkDuration) {
  const std::string path =
      WriteTemp("pwc_times.csv",
                std::string(kPwcHeader) + "C1,Ann,2/28/2021,23:59:50,Billing,Y,N,15,100,4\r\n");
  const auto result = LoadReplay(ReplayFormat::kPwcCalls, path);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->events.size(), 4u);
  const int64_t t0 = UtcMs(2021, 2, 28, 23, 59, 50);
  const auto& ev = result->events;
  EXPECT_TRUE(ev[0].has_queued());
  EXPECT_EQ(ev[0].event_time_ms(), t0);
  EXPECT_EQ(ev[0].queue(), "Billing");
  EXPECT_EQ(ev[0].contact_id(), "C1");
  EXPECT_TRUE(ev[1].has_answered());
  EXPECT_EQ(ev[1].event_time_ms(), t0 + 15'000);
  EXPECT_EQ(ev[1].agent_id(), "Ann");
  EXPECT_TRUE(ev[2].has_ended());
  EXPECT_EQ(ev[2].event_time_ms(), t0 + 115'000);
  EXPECT_FALSE(ev[2].ended().resolved());
  EXPECT_TRUE(ev[3].has_survey());
  EXPECT_EQ(ev[3].survey().csat(), 4);
  EXPECT_EQ(ev[0].event_id(), "pwc-C1-queued");
}

TEST(PwcCallsTest, AbandonComesAfterTheMedianAnsweredWait) {
  const std::string path = WriteTemp("pwc_abandon.csv", std::string(kPwcHeader) +
                                                            "A,x,1/1/2021,10:00:00,T,Y,Y,10,5,\r\n"
                                                            "B,x,1/1/2021,10:00:00,T,Y,Y,50,5,\r\n"
                                                            "C,x,1/1/2021,10:00:00,T,Y,Y,30,5,\r\n"
                                                            "D,x,1/1/2021,11:00:00,T,N,N,,0,\r\n"
                                                            "E,x,1/1/2021,12:00:00,T,N,N,7,0,\r\n");
  const auto result = LoadReplay(ReplayFormat::kPwcCalls, path);
  ASSERT_TRUE(result.ok()) << result.status();
  std::map<std::string, int64_t> abandoned_at;
  for (const auto& e : result->events) {
    if (e.has_abandoned()) abandoned_at[e.contact_id()] = e.event_time_ms();
    EXPECT_FALSE(e.has_survey()) << "no rating, no survey";
  }
  EXPECT_EQ(abandoned_at.at("D"), UtcMs(2021, 1, 1, 11, 0, 30));
  EXPECT_EQ(abandoned_at.at("E"), UtcMs(2021, 1, 1, 12, 0, 7));
}

TEST(PwcCallsTest, MalformedRowsAreCountedWithFileAndLine) {
  const std::string path =
      WriteTemp("pwc_bad.csv", std::string(kPwcHeader) +
                                   "G1,Ann,1/1/2021,9:00:00,Billing,Y,Y,10,60,5\r\n"
                                   "B1,Ann,13/1/2021,9:00:00,Billing,Y,Y,10,60,5\r\n"
                                   "B2,Ann,1/1/2021,9:00:00,Billing,Y,Y,10,60\r\n"
                                   "B3,Ann,1/1/2021,9:00:00,Billing,maybe,Y,10,60,5\r\n"
                                   "B4,Ann,1/1/2021,9:00:00,Billing,Y,Y,10,60,7\r\n"
                                   "B5,Ann,1/1/2021,25:00:00,Billing,Y,Y,10,60,5\r\n"
                                   "G1,Ann,1/1/2021,9:00:00,Billing,Y,Y,10,60,5\r\n"
                                   "G2,Ann,1/2/2021,9:00:00,Billing,N,N,,0,\r\n"
                                   "B6,Ann,1/2/2021,9:00:00,Billing,Y,N,-5,60,5\r\n");
  const auto result = LoadReplay(ReplayFormat::kPwcCalls, path);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.rows_read, 9);
  EXPECT_EQ(result->stats.rows_skipped, 7);
  ASSERT_EQ(result->stats.skipped.size(), 7u);
  EXPECT_THAT(result->stats.skipped[0], HasSubstr(path + ":3: bad date '13/1/2021'"));
  EXPECT_THAT(result->stats.skipped[1], HasSubstr(path + ":4: expected 10 fields, got 9"));
  EXPECT_THAT(result->stats.skipped[2], HasSubstr(path + ":5: answered (Y/N) is 'maybe'"));
  EXPECT_THAT(result->stats.skipped[3], HasSubstr(path + ":6: satisfaction rating '7'"));
  EXPECT_THAT(result->stats.skipped[4], HasSubstr(path + ":7: bad time '25:00:00'"));
  EXPECT_THAT(result->stats.skipped[5], HasSubstr(path + ":8: duplicate call id 'G1'"));
  EXPECT_THAT(result->stats.skipped[6], HasSubstr(path + ":10: bad speed of answer '-5'"));
  const auto kinds = CountKinds(result->events);
  EXPECT_EQ(kinds.at(v1::ContactEvent::kQueued), 2);
  EXPECT_EQ(kinds.at(v1::ContactEvent::kAbandoned), 1);
}

// ---- ibm-conversations against the real file -------------------------------------------------

TEST(IbmConversationsTest, CountsAndTimesMatchTheJson) {
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(kIbmPath));
  int64_t conversations = 0, customer_turns = 0, agent_turns = 0;
  std::map<std::string, std::vector<int64_t>> timed;  // session → times of the dated turns
  std::map<std::string, int64_t> reply_ms;            // session → posting time of the link reply
  for (const auto& conv : doc) {
    ++conversations;
    const std::string session = conv["dialogHeader"]["sessionID"];
    for (const auto& turn : conv["dialogContent"]) {
      (turn.contains("agent") ? agent_turns : customer_turns)++;
      absl::Time t;
      std::string err;
      ASSERT_TRUE(
          absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", turn["datetime"].get<std::string>(), &t, &err));
      timed[session].push_back(absl::ToUnixMillis(t));
    }
    if (conv.contains("agentURL")) {
      ++agent_turns;
      const int64_t tweet = std::stoll(conv["agentURL"]["tweet_ID"].get<std::string>());
      reply_ms[session] = (tweet >> 22) + 1288834974657LL;
    }
  }
  ASSERT_GT(conversations, 0);

  const auto result = LoadReplay(ReplayFormat::kIbmConversations, kIbmPath);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.rows_read, conversations);
  EXPECT_EQ(result->stats.rows_skipped, 0);
  ExpectWellFormed(*result);
  const auto kinds = CountKinds(result->events);
  EXPECT_EQ(kinds.at(v1::ContactEvent::kQueued), conversations);
  EXPECT_EQ(kinds.at(v1::ContactEvent::kEnded), conversations);
  EXPECT_EQ(kinds.at(v1::ContactEvent::kTurn), customer_turns + agent_turns);
  EXPECT_EQ(kinds.size(), 3u);

  int64_t got_customer = 0, got_agent = 0;
  std::map<std::string, std::vector<const v1::ContactEvent*>> by_contact;
  for (const auto& e : result->events) {
    EXPECT_EQ(e.channel(), v1::SOCIAL);
    by_contact[e.contact_id()].push_back(&e);
    if (e.has_turn()) {
      (e.turn().speaker() == v1::CUSTOMER ? got_customer : got_agent)++;
      EXPECT_FALSE(e.turn().text().empty());
    }
  }
  EXPECT_EQ(got_customer, customer_turns);
  EXPECT_EQ(got_agent, agent_turns);
  ASSERT_EQ(static_cast<int64_t>(by_contact.size()), conversations);
  for (const auto& [session, events] : by_contact) {
    ASSERT_TRUE(events.front()->has_queued()) << session;
    ASSERT_TRUE(events.back()->has_ended()) << session;
    const std::vector<int64_t>& want = timed.at(session);
    EXPECT_EQ(events.front()->event_time_ms(), want.front()) << session;
    // The dated turns keep their times; the reply with a link comes after them.
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(events[i + 1]->event_time_ms(), want[i]) << session << " turn " << i;
    }
    EXPECT_GE(events[want.size() + 1]->event_time_ms(), want.back()) << session;
    EXPECT_EQ(events[want.size() + 1]->event_time_ms(), reply_ms.at(session)) << session;
    EXPECT_EQ(events[want.size() + 1]->turn().speaker(), v1::AGENT) << session;
    EXPECT_GT(events.back()->event_time_ms(), events[events.size() - 2]->event_time_ms());
  }
}

TEST(IbmConversationsTest, LinkReplyTimeComesFromItsTweetId) {
  // Tweet id 1245425308704149506 was posted at 2020-04-01T18:58:27.135Z (snowflake time).
  const std::string path = WriteTemp("ibm_reply.json", R"([
  {"agentURL": {"tweet_ID": "1245425308704149506", "url_utterance": "@a here is how"},
   "dialogContent": [{"client": "a", "datetime": "2020-04-01T17:31:32.000Z", "message": "help"}],
   "dialogHeader": {"company": "Brand", "sessionID": "S1"}}
])");
  const auto result = LoadReplay(ReplayFormat::kIbmConversations, path);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->events.size(), 4u);
  const v1::ContactEvent& reply = result->events[2];
  ASSERT_TRUE(reply.has_turn());
  EXPECT_EQ(reply.turn().text(), "@a here is how");
  EXPECT_EQ(reply.agent_id(), "Brand");
  EXPECT_EQ(reply.event_time_ms(), (1245425308704149506LL >> 22) + 1288834974657LL);
  EXPECT_EQ(reply.event_time_ms() / 1000, UtcMs(2020, 4, 1, 18, 58, 27) / 1000);
  EXPECT_EQ(result->events[0].customer_id(), "a");
  EXPECT_EQ(result->events[0].queue(), "Brand");
}

TEST(IbmConversationsTest, MalformedConversationIsSkippedWithItsLine) {
  const std::string path = WriteTemp("ibm_bad.json", R"([
  {"agentURL": {"tweet_ID": "x", "url_utterance": "@a ok"},
   "dialogContent": [{"client": "a", "datetime": "2020-04-01T17:31:32.000Z", "message": "hi"}],
   "dialogHeader": {"company": "Brand", "sessionID": "S1"}},
  {"dialogContent": [{"client": "b", "datetime": "yesterday", "message": "hi"}],
   "dialogHeader": {"company": "Brand", "sessionID": "S2"}},
  {"dialogContent": [], "dialogHeader": {"company": "Brand", "sessionID": "S3"}}
])");
  const auto result = LoadReplay(ReplayFormat::kIbmConversations, path);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.rows_read, 3);
  EXPECT_EQ(result->stats.rows_skipped, 2);
  ASSERT_EQ(result->stats.skipped.size(), 2u);
  EXPECT_THAT(result->stats.skipped[0], HasSubstr(path + ":5: conversation 'S2'"));
  EXPECT_THAT(result->stats.skipped[0], HasSubstr("bad datetime 'yesterday'"));
  EXPECT_THAT(result->stats.skipped[1], HasSubstr(path + ":7: conversation 'S3'"));
  // S1's reply has no usable tweet id: it goes 1 s after the last dated turn.
  ASSERT_EQ(result->events.size(), 4u);
  EXPECT_EQ(result->events[2].event_time_ms(), UtcMs(2020, 4, 1, 17, 31, 33));
}

// ---- cfpb-complaints against the real file ----------------------------------------------------

// An independent RFC 4180 record splitter for the check: toggles on quotes, splits on commas
// and LF outside quotes, unquotes afterwards.
std::vector<std::vector<std::string>> SplitCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string raw;
  bool quoted = false;
  auto finish_field = [&] {
    std::string v;
    if (raw.size() >= 2 && raw.front() == '"') {
      for (size_t i = 1; i + 1 < raw.size(); ++i) {
        v.push_back(raw[i]);
        if (raw[i] == '"') ++i;
      }
    } else {
      v = raw;
    }
    rows.back().push_back(v);
    raw.clear();
  };
  for (const char c : text) {
    if (c == '"') quoted = !quoted;
    if (!quoted && c == ',') {
      finish_field();
    } else if (!quoted && c == '\n') {
      finish_field();
      rows.emplace_back();
    } else {
      raw.push_back(c);
    }
  }
  if (!raw.empty()) finish_field();
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

TEST(CfpbComplaintsTest, OneComplaintPerRecordOnItsDay) {
  const auto rows = SplitCsv(ReadFile(kCfpbPath));
  ASSERT_GT(rows.size(), 1u);
  const std::vector<std::string>& header = rows[0];
  auto index = [&](const std::string& name) {
    return std::find(header.begin(), header.end(), name) - header.begin();
  };
  const auto id_col = index("Complaint ID"), via_col = index("Submitted via"),
             date_col = index("Date received"), product_col = index("Product"),
             company_col = index("Company"), issue_col = index("Issue");
  std::map<std::string, std::vector<std::string>> by_id;
  int64_t phone = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), header.size()) << "record " << i;
    by_id["cfpb-" + rows[i][id_col]] = rows[i];
    if (rows[i][via_col] == "Phone") ++phone;
  }

  const auto result = LoadReplay(ReplayFormat::kCfpbComplaints, kCfpbPath);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.rows_read, static_cast<int64_t>(rows.size() - 1));
  EXPECT_EQ(result->stats.rows_skipped, 0);
  ExpectWellFormed(*result);
  ASSERT_EQ(result->events.size(), rows.size() - 1);
  int64_t voice = 0;
  for (const auto& e : result->events) {
    ASSERT_TRUE(e.has_complaint_lodged());
    const std::vector<std::string>& row = by_id.at(e.contact_id());
    EXPECT_EQ(
        absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(e.event_time_ms()), absl::UTCTimeZone()),
        row[date_col]);
    EXPECT_EQ(e.complaint_lodged().category(), row[product_col]);
    EXPECT_EQ(e.complaint_lodged().company(), row[company_col]);
    EXPECT_EQ(e.complaint_lodged().issue(), row[issue_col]);
    if (e.channel() == v1::VOICE) ++voice;
  }
  EXPECT_EQ(voice, phone);
}

constexpr char kCfpbHeader[] =
    "Date received,Product,Sub-product,Issue,Sub-issue,Consumer complaint narrative,"
    "Company public response,Company,State,ZIP code,Tags,Consumer consent provided?,"
    "Submitted via,Date sent to company,Company response to consumer,Timely response?,"
    "Consumer disputed?,Complaint ID\n";

TEST(CfpbComplaintsTest, QuotedFieldsAndMalformedRecords) {
  const std::string path = WriteTemp(
      "cfpb_fixture.csv",
      std::string(kCfpbHeader) +
          // line 2..4: a narrative with a comma, a doubled quote and two newlines
          "2019-09-24,\"Loans, cards and more\",,Issue A,,\"He said \"\"no\"\",\nthen\nleft\","
          ",\"ACME, INC.\",FL,335XX,,,Phone,2019-09-24,Closed,Yes,N/A,100\n"
          // line 5: bad date
          "2019-02-30,Mortgage,,Issue B,,,,Bank,FL,,,,Web,2019-03-01,Closed,Yes,N/A,101\n"
          // line 6: a missing column
          "2019-03-01,Mortgage,,Issue B,,,Bank,FL,,,,Web,2019-03-01,Closed,Yes,N/A,102\n"
          // line 7: fine
          "2019-10-01,Mortgage,,Issue B,,,,Bank,FL,,,,Referral,2019-10-01,Closed,Yes,N/A,103\n"
          // line 8: unterminated quote runs to the end
          "2019-03-02,Mortgage,,Issue B,,\"never closed,,,Bank,FL,,,,Web,2019-03-02,C,Y,N,104\n"
          "2019-03-02,Mortgage,,Issue B,,,,Bank,FL,,,,Web,2019-03-02,C,Y,N,105\n");
  const auto result = LoadReplay(ReplayFormat::kCfpbComplaints, path);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.rows_read, 5);
  EXPECT_EQ(result->stats.rows_skipped, 3);
  EXPECT_THAT(result->stats.skipped,
              ElementsAre(HasSubstr(path + ":5: bad Date received '2019-02-30'"),
                          HasSubstr(path + ":6: expected 18 fields, got 17"),
                          HasSubstr(path + ":8: unterminated quoted field")));
  ASSERT_EQ(result->events.size(), 2u);
  const v1::ContactEvent& first = result->events[0];
  EXPECT_EQ(first.contact_id(), "cfpb-100");
  EXPECT_EQ(first.event_id(), "cfpb-100-lodged");
  EXPECT_EQ(first.customer_id(), "cfpb-consumer-100");
  EXPECT_EQ(first.channel(), v1::VOICE);
  EXPECT_EQ(first.queue(), "loans-cards-and-more");
  EXPECT_EQ(first.complaint_lodged().category(), "Loans, cards and more");
  EXPECT_EQ(first.complaint_lodged().company(), "ACME, INC.");
  EXPECT_EQ(first.complaint_lodged().issue(), "Issue A");
  EXPECT_GE(first.event_time_ms(), UtcMs(2019, 9, 24, 0, 0, 0));
  EXPECT_LT(first.event_time_ms(), UtcMs(2019, 9, 25, 0, 0, 0));
  EXPECT_EQ(result->events[1].contact_id(), "cfpb-103");
  EXPECT_EQ(result->events[1].channel(), v1::EMAIL);
}

// ---- whole-file errors -------------------------------------------------------------------------

TEST(ReplayErrorsTest, MissingFileIsAnErrorNamingIt) {
  const std::string path = testing::TempDir() + "/no_such_file.csv";
  for (const ReplayFormat f :
       {ReplayFormat::kPwcCalls, ReplayFormat::kIbmConversations, ReplayFormat::kCfpbComplaints}) {
    const auto result = LoadReplay(f, path);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(Message(result.status()), HasSubstr(path));
  }
}

TEST(ReplayErrorsTest, FileOfAnotherFormatIsAnErrorNamingIt) {
  const auto pwc_as_cfpb = LoadReplay(ReplayFormat::kCfpbComplaints, kPwcPath);
  ASSERT_FALSE(pwc_as_cfpb.ok());
  EXPECT_EQ(pwc_as_cfpb.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(pwc_as_cfpb.status()), HasSubstr(kPwcPath));
  EXPECT_THAT(Message(pwc_as_cfpb.status()), HasSubstr("'Complaint ID'"));

  const auto cfpb_as_pwc = LoadReplay(ReplayFormat::kPwcCalls, kCfpbPath);
  ASSERT_FALSE(cfpb_as_pwc.ok());
  EXPECT_THAT(Message(cfpb_as_pwc.status()), HasSubstr(kCfpbPath));

  const auto csv_as_json = LoadReplay(ReplayFormat::kIbmConversations, kPwcPath);
  ASSERT_FALSE(csv_as_json.ok());
  EXPECT_THAT(Message(csv_as_json.status()), HasSubstr(kPwcPath));

  const auto json_as_csv = LoadReplay(ReplayFormat::kPwcCalls, kIbmPath);
  ASSERT_FALSE(json_as_csv.ok());
  EXPECT_THAT(Message(json_as_csv.status()), HasSubstr(kIbmPath));

  const std::string other_json = WriteTemp("other.json", R"([{"id": 1}, {"id": 2}])");
  const auto not_conversations = LoadReplay(ReplayFormat::kIbmConversations, other_json);
  ASSERT_FALSE(not_conversations.ok());
  EXPECT_THAT(Message(not_conversations.status()), HasSubstr(other_json));

  const std::string empty = WriteTemp("empty.csv", "");
  const auto empty_result = LoadReplay(ReplayFormat::kPwcCalls, empty);
  ASSERT_FALSE(empty_result.ok());
  EXPECT_THAT(Message(empty_result.status()), HasSubstr(empty));
}

}  // namespace
}  // namespace ccstream::replay
