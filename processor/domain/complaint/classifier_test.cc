#include "processor/domain/complaint/classifier.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "embedded/complaint_model.h"
#include "embedded/complaint_reference_probabilities.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "processor/domain/complaint/model_format.h"
#include "processor/domain/complaint/trainer.h"

namespace ccstream::domain::complaint {
namespace {

using ::testing::HasSubstr;

// One line of reference_probabilities.tsv.
struct Reference {
  std::string kind;  // "row" or "probe"
  std::string key;   // tweet id (row) or the text itself (probe)
  double probability = 0;
};

std::vector<Reference> References() {
  std::vector<Reference> out;
  std::istringstream in{std::string(embedded::complaint_reference_probabilities())};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t a = line.find('\t');
    const size_t b = line.find('\t', a + 1);
    Reference r;
    r.kind = line.substr(0, a);
    if (r.kind == "row") {
      r.key = line.substr(a + 1, b - a - 1);
      r.probability = std::stod(line.substr(b + 1));
    } else {
      r.probability = std::stod(line.substr(a + 1, b - a - 1));
      r.key = line.substr(b + 1);
    }
    out.push_back(r);
  }
  return out;
}

TEST(ComplaintClassifierTest, EmbeddedWeightsParse) {
  const absl::StatusOr<ComplaintClassifier> parsed =
      ComplaintClassifier::FromWeights(embedded::complaint_model());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const ComplaintClassifier& model = ComplaintClassifier::Default();
  EXPECT_GT(model.threshold(), 0.05);
  EXPECT_LT(model.threshold(), 0.95);
  EXPECT_EQ(parsed->threshold(), model.threshold());
  // A trained model, not an empty one: at least some thousands of weights are stored.
  const absl::StatusOr<ModelData> data = ParseModel(embedded::complaint_model());
  ASSERT_TRUE(data.ok());
  int non_zero = 0;
  for (float w : data->weights) non_zero += w != 0 ? 1 : 0;
  EXPECT_GT(non_zero, 5000);
}

TEST(ComplaintClassifierTest, ClearComplaintsAreComplaints) {
  const ComplaintClassifier& model = ComplaintClassifier::Default();
  for (const char* text : {
           "@united my flight was delayed 6 hours and nobody at the gate told us anything. "
           "Worst airline ever.",
           "@comcast my internet has been down for 3 days and still no technician. Unacceptable!",
           "I was charged twice for the same order and your customer service won't refund me",
           "@AmazonHelp my package never arrived and now you say it was delivered?? Ridiculous",
           "Been on hold for over an hour. Terrible service, I am so disappointed.",
       }) {
    EXPECT_TRUE(model.IsComplaint(text)) << text << " p=" << model.Probability(text);
  }
}

TEST(ComplaintClassifierTest, ClearInquiriesAndRemarksAreNot) {
  const ComplaintClassifier& model = ComplaintClassifier::Default();
  for (const char* text : {
           "@Starbucks what time do you open on Sunday?",
           "Thank you @Delta, the crew was lovely and we landed early!",
           "@Apple does the new iPad come in blue?",
           "Happy birthday to my best friend, love you",
           "@Nike great shoes, love them",
       }) {
    EXPECT_FALSE(model.IsComplaint(text)) << text << " p=" << model.Probability(text);
  }
}

TEST(ComplaintClassifierTest, IsComplaintMatchesProbabilityAndThreshold) {
  const ComplaintClassifier& model = ComplaintClassifier::Default();
  for (const char* text : {"my order is late again", "where is the store", "love it", "",
                           "why is my bill so high this month?"}) {
    const double p = model.Probability(text);
    EXPECT_GE(p, 0.0);
    EXPECT_LE(p, 1.0);
    EXPECT_EQ(model.IsComplaint(text), p >= model.threshold()) << text;
    EXPECT_NEAR(p, 1.0 / (1.0 + std::exp(-model.Score(text))), 1e-15);
  }
}

TEST(ComplaintClassifierTest, EmptyAndBlankTextWork) {
  const ComplaintClassifier& model = ComplaintClassifier::Default();
  const double empty = model.Probability("");
  EXPECT_TRUE(std::isfinite(empty));
  EXPECT_GT(empty, 0.0);
  EXPECT_LT(empty, 1.0);
  // Separators alone produce no features, so they score like the empty text.
  EXPECT_EQ(model.Probability("   \t\n "), empty);
  EXPECT_EQ(model.Probability(std::string_view()), empty);
}

TEST(ComplaintClassifierTest, ReproducesTrainerProbabilitiesOnProbeTexts) {
  const ComplaintClassifier& model = ComplaintClassifier::Default();
  int probes = 0;
  for (const Reference& r : References()) {
    if (r.kind != "probe") continue;
    ++probes;
    EXPECT_NEAR(model.Probability(r.key), r.probability, 1e-12) << "\"" << r.key << "\"";
  }
  EXPECT_GE(probes, 5);
}

TEST(ComplaintClassifierTest, ReproducesTrainerProbabilitiesOnTrainingRows) {
  std::ifstream in(CCSTREAM_COMPLAINT_TRAIN_CSV, std::ios::binary);
  if (!in) GTEST_SKIP() << "corpus not present: " << CCSTREAM_COMPLAINT_TRAIN_CSV;
  std::stringstream contents;
  contents << in.rdbuf();
  const absl::StatusOr<std::vector<Example>> examples = ParseLabelledCsv(contents.str());
  ASSERT_TRUE(examples.ok()) << examples.status();
  std::map<std::string, std::string> text_of;
  for (const Example& e : *examples) text_of[e.id] = e.text;
  const ComplaintClassifier& model = ComplaintClassifier::Default();
  int rows = 0;
  for (const Reference& r : References()) {
    if (r.kind != "row") continue;
    ++rows;
    ASSERT_TRUE(text_of.contains(r.key)) << r.key;
    EXPECT_NEAR(model.Probability(text_of[r.key]), r.probability, 1e-12) << r.key;
  }
  EXPECT_GE(rows, 8);
}

TEST(ComplaintClassifierTest, ConcurrentCallsAgree) {
  const ComplaintClassifier& model = ComplaintClassifier::Default();
  const std::vector<std::string> texts = {"my order is late again!!", "what time do you open?",
                                          "@x the app keeps crashing http://t.co/x", ""};
  std::vector<double> expected;
  for (const std::string& t : texts) expected.push_back(model.Probability(t));
  std::vector<std::vector<double>> got(4);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 200; ++round) {
        for (const std::string& t : texts) got[k].push_back(model.Probability(t));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::vector<double>& g : got) {
    for (size_t i = 0; i < g.size(); ++i) ASSERT_EQ(g[i], expected[i % texts.size()]);
  }
}

// A small valid model, as the trainer would write it.
std::string SmallBlob() {
  ModelData data;
  data.options.hash_bits = 10;
  data.bias = -0.25;
  data.threshold = 0.4;
  data.weights.assign(FeatureExtractor(data.options).dimension(), 0.0f);
  data.weights[3] = 0.5f;
  data.weights[700] = -1.25f;
  data.weights[1024 + kHasQuestion] = -2.0f;
  return SerializeModel(data);
}

TEST(ComplaintClassifierTest, FromWeightsReadsWhatSerializeModelWrote) {
  const absl::StatusOr<ComplaintClassifier> model = ComplaintClassifier::FromWeights(SmallBlob());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_DOUBLE_EQ(model->threshold(), 0.4);
  EXPECT_DOUBLE_EQ(model->Score(""), -0.25);
  // The '?' dense weight lowers the score of a question.
  EXPECT_LT(model->Score("zzz?"), model->Score("zzz"));
  const absl::StatusOr<ModelData> data = ParseModel(SmallBlob());
  ASSERT_TRUE(data.ok());
  EXPECT_NEAR(data->weights[3], 0.5, 1e-4);
  EXPECT_NEAR(data->weights[700], -1.25, 1e-4);
  EXPECT_EQ(data->weights[4], 0.0f);
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(ComplaintClassifierTest, BadBlobsAreRefusedWithAReason) {
  const std::string good = SmallBlob();
  ASSERT_TRUE(ComplaintClassifier::FromWeights(good).ok());
  const struct {
    std::string blob;
    std::string reason;
  } cases[] = {
      {"", "does not start with"},
      {"hello world", "does not start with"},
      {Replace(good, "\ndata\n", "\nstuff\n"), "no \"data\" line"},
      {good.substr(0, good.size() - 1), "entries need"},
      {good + "x", "entries need"},
      {Replace(good, "threshold 0.4", "threshold 1.5"), "not in (0, 1)"},
      {Replace(good, "threshold 0.4", "threshold abc"), "not a finite number"},
      {Replace(good, "feature_version " + std::to_string(kFeatureVersion), "feature_version 99"),
       "retrain"},
      {Replace(good, "format 1", "format 7"), "format 7"},
      {Replace(good, "hash_bits 10\n", ""), "lacks \"hash_bits\""},
      {Replace(good, "hash_bits 10", "hash_bits 40"), "out of range"},
      {Replace(good, "bias ", "bias  "), "not a finite number"},
  };
  for (const auto& c : cases) {
    const absl::StatusOr<ComplaintClassifier> model = ComplaintClassifier::FromWeights(c.blob);
    ASSERT_FALSE(model.ok()) << c.reason;
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(model.status().message(), HasSubstr(c.reason));
  }
}

TEST(ComplaintClassifierTest, OutOfRangeAndUnsortedIndicesAreRefused) {
  std::string good = SmallBlob();
  const size_t body = good.find("\ndata\n") + 6;
  // Entries are index (4 bytes LE) + weight (2 bytes); the first index is 3.
  std::string beyond = good;
  beyond[body + 3] = '\x7f';
  EXPECT_THAT(ComplaintClassifier::FromWeights(beyond).status().message(),
              HasSubstr("beyond dimension"));
  std::string unsorted = good;
  unsorted[body] = static_cast<char>(0xff);  // 255 then 700, 1024: still sorted
  EXPECT_TRUE(ComplaintClassifier::FromWeights(unsorted).ok());
  unsorted[body + 1] = '\x03';  // 1023 before 700
  EXPECT_THAT(ComplaintClassifier::FromWeights(unsorted).status().message(),
              HasSubstr("not increasing"));
}

}  // namespace
}  // namespace ccstream::domain::complaint
