#include "processor/domain/complaint/trainer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "processor/domain/complaint/classifier.h"

namespace ccstream::domain::complaint {
namespace {

using ::testing::HasSubstr;

TEST(ParseLabelledCsvTest, ReadsQuotedFieldsDoubledQuotesAndLineBreaks) {
  const absl::StatusOr<std::vector<Example>> examples = ParseLabelledCsv(
      "1,plain text,0,food\n"
      "2,\"with, comma and \"\"quotes\"\"\",1,cars\r\n"
      "3,\"two\nlines\",1,\"air\"\n"
      "4,,0,x");
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 4u);
  EXPECT_EQ((*examples)[0].text, "plain text");
  EXPECT_FALSE((*examples)[0].is_complaint);
  EXPECT_EQ((*examples)[1].text, "with, comma and \"quotes\"");
  EXPECT_TRUE((*examples)[1].is_complaint);
  EXPECT_EQ((*examples)[1].domain, "cars");
  EXPECT_EQ((*examples)[2].text, "two\nlines");
  EXPECT_EQ((*examples)[2].domain, "air");
  EXPECT_EQ((*examples)[3].id, "4");
  EXPECT_EQ((*examples)[3].text, "");
}

TEST(ParseLabelledCsvTest, RefusesMalformedRecords) {
  EXPECT_THAT(ParseLabelledCsv("1,a,0\n").status().message(), HasSubstr("3 fields"));
  EXPECT_THAT(ParseLabelledCsv("1,a,0,d\n2,b,yes,d\n").status().message(),
              HasSubstr("line 2: label \"yes\""));
  EXPECT_THAT(ParseLabelledCsv("1,\"open,0,d\n").status().message(), HasSubstr("not closed"));
  EXPECT_THAT(ParseLabelledCsv("1,a\"b,0,d\n").status().message(), HasSubstr("quote inside"));
}

TEST(MetricsTest, ComputesClassAndMacroF1) {
  // Labels 1,1,1,0,0 ; predictions at 0.5: 1,1,0,1,0 → TP 2, FN 1, FP 1, TN 1.
  const Metrics m = Evaluate({0.9, 0.6, 0.2, 0.7, 0.1}, {true, true, true, false, false}, 0.5);
  EXPECT_EQ(m.true_positive, 2);
  EXPECT_EQ(m.false_negative, 1);
  EXPECT_EQ(m.false_positive, 1);
  EXPECT_EQ(m.true_negative, 1);
  EXPECT_DOUBLE_EQ(m.Precision(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.Recall(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.F1(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.NegativeF1(), 0.5);
  EXPECT_DOUBLE_EQ(m.MacroF1(), (2.0 / 3.0 + 0.5) / 2.0);
  EXPECT_DOUBLE_EQ(m.Accuracy(), 0.6);
}

TEST(AssignFoldsTest, StratifiedBalancedAndDeterministic) {
  std::vector<bool> labels;
  for (int i = 0; i < 100; ++i) labels.push_back(i % 4 == 0);  // 25 positives
  const std::vector<int> folds = AssignFolds(labels, 5, 7);
  EXPECT_EQ(folds, AssignFolds(labels, 5, 7));
  EXPECT_NE(folds, AssignFolds(labels, 5, 8));
  std::vector<int> size(5, 0);
  std::vector<int> positives(5, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    ASSERT_GE(folds[i], 0);
    ASSERT_LT(folds[i], 5);
    ++size[folds[i]];
    positives[folds[i]] += labels[i] ? 1 : 0;
  }
  for (int f = 0; f < 5; ++f) {
    EXPECT_EQ(size[f], 20);
    EXPECT_EQ(positives[f], 5);
  }
}

// A small corpus of our own: complaints about breached expectations and neutral questions or
// remarks, with overlapping topics so that the topic alone does not give the label away.
std::vector<Example> BuiltInCorpus() {
  const char* complaints[] = {
      "my flight was delayed again and nobody told us anything",
      "still waiting for my refund after three weeks, terrible service",
      "the app keeps crashing and support never answers",
      "you charged me twice and won't fix it",
      "my package never arrived, worst delivery ever",
      "been on hold for two hours, this is ridiculous",
      "the internet is down again for the third day, unacceptable",
      "my order was wrong and the food was cold",
      "they cancelled my booking without telling me, so disappointed",
      "broken screen on arrival and no reply from you",
      "lost my luggage and nobody at the desk will help",
      "the train is late every single day, awful",
      "your update broke my phone and I still can't call anyone",
      "waited an hour for a technician who never showed up",
      "billing error again, I was overcharged and nobody cares",
      "my card was declined for no reason, useless bank",
      "rude staff at the store and the product is faulty",
      "the delivery driver left my parcel in the rain, soaked and ruined",
      "no hot water in the room and the hotel won't move us",
      "support closed my ticket without fixing the problem",
  };
  const char* others[] = {
      "what time does the store open on sunday",
      "does the flight to boston have wifi",
      "how do I change my delivery address",
      "thanks for the quick reply, have a nice day",
      "is the new phone available in blue",
      "can I bring my dog on the train",
      "love the new menu, great job",
      "where can I find the booking reference",
      "happy friday everyone",
      "will the app support dark mode soon",
      "which plan includes international calls",
      "congrats on the launch, looks amazing",
      "do you ship to canada",
      "great coffee this morning, thank you",
      "how long is the warranty on the laptop",
      "any discounts for students this month",
      "just booked our holiday, so excited",
      "what are your opening hours over the holidays",
      "the concert was fantastic last night",
      "can I pay with apple pay in the shop",
  };
  std::vector<Example> out;
  int id = 0;
  for (const char* text : complaints) out.push_back({std::to_string(id++), text, true, "test"});
  for (const char* text : others) out.push_back({std::to_string(id++), text, false, "test"});
  return out;
}

TrainOptions SmallOptions() {
  TrainOptions options;
  options.features.hash_bits = 16;
  options.c_grid = {3, 10};
  options.inner_folds = 3;
  options.min_df = 1;
  options.max_iterations = 100;
  return options;
}

TEST(CrossValidateTest, BeatsChanceOnTheBuiltInCorpus) {
  const std::vector<Example> corpus = BuiltInCorpus();
  const CrossValidationReport report = CrossValidate(corpus, SmallOptions(), 4);
  ASSERT_EQ(report.folds.size(), 4u);
  int test_rows = 0;
  for (const FoldReport& fold : report.folds) {
    test_rows += fold.test_rows;
    EXPECT_GT(fold.threshold, 0.0);
    EXPECT_LT(fold.threshold, 1.0);
  }
  EXPECT_EQ(test_rows, static_cast<int>(corpus.size()));
  // Chance is 0.5 macro-F1 on this balanced corpus.
  EXPECT_GT(report.MeanMacroF1(), 0.65);
  // Held-out probabilities separate the classes on average.
  double complaint_mean = 0;
  double other_mean = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    (corpus[i].is_complaint ? complaint_mean : other_mean) += report.out_of_fold[i] / 20.0;
  }
  EXPECT_GT(complaint_mean, other_mean + 0.1);
}

TEST(FitTest, FittedModelSerialisesAndClassifiesItsTrainingRows) {
  const std::vector<Example> corpus = BuiltInCorpus();
  TrainOptions options = SmallOptions();
  const FeatureMatrix matrix(corpus, options.features);
  std::vector<size_t> rows(corpus.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  const FitResult fit = Fit(matrix, rows, options);
  EXPECT_TRUE(fit.c == 3 || fit.c == 10);
  EXPECT_GT(fit.used_features, 100);
  const absl::StatusOr<ComplaintClassifier> model =
      ComplaintClassifier::FromWeights(SerializeModel(fit.model));
  ASSERT_TRUE(model.ok()) << model.status();
  int correct = 0;
  for (const Example& e : corpus) correct += model->IsComplaint(e.text) == e.is_complaint;
  EXPECT_GE(correct, 38);
}

TEST(FitTest, NaiveBayesWeightingChangesTheModel) {
  const std::vector<Example> corpus = BuiltInCorpus();
  TrainOptions with_nb = SmallOptions();
  with_nb.inner_folds = 0;
  TrainOptions without_nb = with_nb;
  without_nb.nb_weighting = false;
  const FeatureMatrix matrix(corpus, with_nb.features);
  std::vector<size_t> rows(corpus.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  EXPECT_NE(Fit(matrix, rows, with_nb).model.weights, Fit(matrix, rows, without_nb).model.weights);
}

}  // namespace
}  // namespace ccstream::domain::complaint
