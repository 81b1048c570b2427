# A real Apache Kafka broker for integration tests, as the CTest fixture `kafka`.
#
# kafka_broker_start (FIXTURES_SETUP kafka) runs `deploy/kafka/start.sh --fresh` on
# ${CMAKE_BINARY_DIR}/kafka-broker (stopping and removing what a previous run left there);
# kafka_broker_stop (FIXTURES_CLEANUP kafka) runs deploy/kafka/stop.sh on it. Both carry the label
# `integration`. The first start on a machine fetches Kafka from Maven Central into the cache
# (see deploy/kafka/README.md).
#
# ccstream_add_kafka_test(<name> COMMAND <cmd...> [LABELS <label...>] [TIMEOUT <s>] [PARALLEL])
#   Registers a test that needs the broker: FIXTURES_REQUIRED kafka, labels `integration` plus
#   LABELS, TIMEOUT (default 120 s) and the environment
#     CCSTREAM_KAFKA_DIR             the broker's work dir (topics.sh and stop.sh take it)
#     CCSTREAM_KAFKA_BOOTSTRAP_FILE  file holding the broker's host:port
#                                    (tests/kafka/broker_env.h reads it)
#     CCSTREAM_SOURCE_DIR            the source tree (for deploy/kafka/*.sh and datasets)
#   Tests share one broker and run one at a time (RUN_SERIAL) unless PARALLEL is given.

set(CCSTREAM_KAFKA_DIR ${CMAKE_BINARY_DIR}/kafka-broker)
set(CCSTREAM_KAFKA_BOOTSTRAP_FILE ${CCSTREAM_KAFKA_DIR}/bootstrap)
set(CCSTREAM_KAFKA_SCRIPTS ${PROJECT_SOURCE_DIR}/deploy/kafka)

function(ccstream_add_kafka_test name)
  cmake_parse_arguments(ARG "PARALLEL" "TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ccstream_add_kafka_test(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_COMMAND)
    message(FATAL_ERROR "ccstream_add_kafka_test(${name}): COMMAND is required")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(serial TRUE)
  if(ARG_PARALLEL)
    set(serial FALSE)
  endif()
  add_test(NAME ${name} COMMAND ${ARG_COMMAND})
  set_tests_properties(${name} PROPERTIES
    FIXTURES_REQUIRED kafka
    LABELS "integration;${ARG_LABELS}"
    TIMEOUT ${ARG_TIMEOUT}
    RUN_SERIAL ${serial}
    ENVIRONMENT "CCSTREAM_KAFKA_DIR=${CCSTREAM_KAFKA_DIR};CCSTREAM_KAFKA_BOOTSTRAP_FILE=${CCSTREAM_KAFKA_BOOTSTRAP_FILE};CCSTREAM_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# The fixture's own tests are added once the top-level CMakeLists.txt has been read, when
# enable_testing() and CCSTREAM_BUILD_TESTS are settled.
function(_ccstream_add_kafka_fixture)
  if(NOT CCSTREAM_BUILD_TESTS)
    return()
  endif()
  add_test(NAME kafka_broker_start
           COMMAND ${CCSTREAM_KAFKA_SCRIPTS}/start.sh --fresh ${CCSTREAM_KAFKA_DIR})
  set_tests_properties(kafka_broker_start PROPERTIES
    FIXTURES_SETUP kafka
    LABELS integration
    TIMEOUT 600
    RUN_SERIAL TRUE)
  add_test(NAME kafka_broker_stop COMMAND ${CCSTREAM_KAFKA_SCRIPTS}/stop.sh ${CCSTREAM_KAFKA_DIR})
  set_tests_properties(kafka_broker_stop PROPERTIES
    FIXTURES_CLEANUP kafka
    LABELS integration
    TIMEOUT 180
    RUN_SERIAL TRUE)
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL _ccstream_add_kafka_fixture)
