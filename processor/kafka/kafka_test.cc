#include "processor/kafka/kafka.h"

#include <gtest/gtest.h>

namespace ccstream::kafka {
namespace {

v1::KafkaConfig Config() {
  v1::KafkaConfig kafka;
  kafka.set_bootstrap_servers("broker:9092");
  kafka.set_group_id("ccstream");
  kafka.set_group_instance_id("ccstream-1");
  kafka.set_client_id("ccstream");
  return kafka;
}

TEST(ProducerPropertiesTest, TransactionalOutputsLingerUntilTheCommitFlushesThem) {
  const Properties p = ProducerProperties(Config(), /*transactional=*/true);
  EXPECT_EQ(p.at("transactional.id"), "ccstream-ccstream-1");
  EXPECT_EQ(p.at("linger.ms"), "50");
  EXPECT_EQ(p.at("enable.idempotence"), "true");
}

TEST(ProducerPropertiesTest, AtLeastOnceAlertsLingerBriefly) {
  const Properties p = ProducerProperties(Config(), /*transactional=*/false);
  EXPECT_EQ(p.count("transactional.id"), 0u);
  EXPECT_EQ(p.at("linger.ms"), "5");
}

TEST(AlertTopicPropertiesTest, AlertsGoUncompressedWhileTheRestKeepsLz4) {
  EXPECT_EQ(ProducerProperties(Config(), /*transactional=*/false).at("compression.type"), "lz4");
  const Properties alerts = AlertTopicProperties(Config());
  EXPECT_EQ(alerts, (Properties{{"compression.codec", "none"}}));
  // librdkafka takes them as topic-level configuration.
  EXPECT_TRUE(MakeTopicConf(alerts).ok());
}

TEST(AlertTopicPropertiesTest, ACompressionConfiguredForTheProducerHoldsForTheAlertsToo) {
  for (const char* name : {"compression.type", "compression.codec"}) {
    v1::KafkaConfig kafka = Config();
    (*kafka.mutable_producer_properties())[name] = "zstd";
    EXPECT_TRUE(AlertTopicProperties(kafka).empty()) << name;
  }
}

TEST(AlertTopicPropertiesTest, ARefusedTopicPropertyIsNamed) {
  const auto conf = MakeTopicConf({{"compression.codec", "rot13"}});
  ASSERT_FALSE(conf.ok());
  EXPECT_NE(conf.status().message().find("compression.codec=rot13"), std::string::npos);
}

TEST(ProducerPropertiesTest, TheConfiguredPropertiesWin) {
  v1::KafkaConfig kafka = Config();
  (*kafka.mutable_producer_properties())["linger.ms"] = "2";
  (*kafka.mutable_producer_properties())["compression.type"] = "zstd";
  for (const bool transactional : {true, false}) {
    const Properties p = ProducerProperties(kafka, transactional);
    EXPECT_EQ(p.at("linger.ms"), "2");
    EXPECT_EQ(p.at("compression.type"), "zstd");
  }
}

TEST(ProducerPropertiesTest, EveryDefaultIsAPropertyLibrdkafkaTakes) {
  for (const bool transactional : {true, false}) {
    const auto conf = MakeConf(ProducerProperties(Config(), transactional));
    EXPECT_TRUE(conf.ok()) << conf.status();
  }
}

// The other clients connect as the pipeline's consumer and producer do: a secured cluster's
// settings reach them too (tests/cli/sasl_run_test.sh runs the whole service that way).
TEST(ReaderPropertiesTest, TheConsumerPropertiesReachTheOtherReaders) {
  v1::KafkaConfig kafka = Config();
  (*kafka.mutable_consumer_properties())["security.protocol"] = "SASL_PLAINTEXT";
  (*kafka.mutable_consumer_properties())["sasl.mechanism"] = "PLAIN";
  const Properties p = ReaderProperties(kafka);
  EXPECT_EQ(p.at("bootstrap.servers"), "broker:9092");
  EXPECT_EQ(p.at("security.protocol"), "SASL_PLAINTEXT");
  EXPECT_EQ(p.at("sasl.mechanism"), "PLAIN");
  EXPECT_EQ(p.count("group.id"), 0u) << "a reader joins no group unless it says so";
}

TEST(AdminPropertiesTest, TheProducerPropertiesReachTheMetadataClients) {
  v1::KafkaConfig kafka = Config();
  (*kafka.mutable_producer_properties())["security.protocol"] = "SASL_SSL";
  const Properties p = AdminProperties(kafka);
  EXPECT_EQ(p.at("bootstrap.servers"), "broker:9092");
  EXPECT_EQ(p.at("security.protocol"), "SASL_SSL");
  EXPECT_TRUE(MakeConf(AdminProperties(Config())).ok());
}

}  // namespace
}  // namespace ccstream::kafka
