// The address of the Kafka broker that integration tests run against.
//
// The CTest fixture `kafka` (cmake/KafkaFixture.cmake) starts a development broker and tells each
// test registered with ccstream_add_kafka_test() where its address is kept, through the
// environment variable CCSTREAM_KAFKA_BOOTSTRAP_FILE. To run such a test by hand against any
// broker, set CCSTREAM_KAFKA_BOOTSTRAP=host:port instead.
//
// Header-only and free of Kafka headers so any test can include it. Thread-safe (reads only).
#ifndef CCSTREAM_TESTS_KAFKA_BROKER_ENV_H_
#define CCSTREAM_TESTS_KAFKA_BROKER_ENV_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ccstream {

// Returns the broker's bootstrap servers ("host:port"). Throws std::runtime_error with a message
// saying what is missing when neither variable leads to an address, so a test run without a
// broker fails loudly instead of passing vacuously.
inline std::string TestBootstrapServers() {
  auto trim = [](const std::string& s) {
    const char* kSpace = " \t\r\n";
    const auto begin = s.find_first_not_of(kSpace);
    if (begin == std::string::npos) return std::string();
    return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
  };
  if (const char* direct = std::getenv("CCSTREAM_KAFKA_BOOTSTRAP");
      direct != nullptr && !trim(direct).empty()) {
    return trim(direct);
  }
  const char* file = std::getenv("CCSTREAM_KAFKA_BOOTSTRAP_FILE");
  if (file == nullptr || *file == '\0') {
    throw std::runtime_error(
        "no Kafka broker: set CCSTREAM_KAFKA_BOOTSTRAP_FILE (the CTest fixture `kafka` does) or "
        "CCSTREAM_KAFKA_BOOTSTRAP=host:port");
  }
  std::ifstream in(file);
  if (!in) {
    throw std::runtime_error(std::string("cannot read the Kafka bootstrap file ") + file +
                             " (is the broker started? see deploy/kafka/README.md)");
  }
  std::stringstream content;
  content << in.rdbuf();
  std::string servers = trim(content.str());
  if (servers.empty()) {
    throw std::runtime_error(std::string("the Kafka bootstrap file ") + file + " is empty");
  }
  return servers;
}

}  // namespace ccstream

#endif  // CCSTREAM_TESTS_KAFKA_BROKER_ENV_H_
