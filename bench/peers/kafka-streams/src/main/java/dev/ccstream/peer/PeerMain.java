package dev.ccstream.peer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.Stores;

/**
 * Entry point of the Kafka Streams peer. Usage:
 *
 * <pre>
 *   java -jar peer.jar --bootstrap HOST:PORT --input TOPIC --alerts TOPIC --app-id ID
 *       --state-dir DIR --lexicon PATH [--expect N] [--threads K] [--commit-interval-ms M]
 *   java -jar peer.jar --lexicon PATH --score TEXT     (prints the sentiment of TEXT;
 *                                                       "-": of each line of stdin)
 * </pre>
 *
 * With --expect N &gt; 0 it stops after N input records, closes (committing the last
 * transaction) and prints one JSON line; with --expect 0 it runs until SIGTERM/SIGINT and then
 * does the same. Logs go to stderr; stdout carries only the JSON line.
 */
public final class PeerMain {
  private static final String USAGE = "usage: peer --bootstrap HOST:PORT --input TOPIC --alerts TOPIC"
      + " --app-id ID --state-dir DIR --lexicon PATH [--expect N] [--threads K]"
      + " [--commit-interval-ms M]";

  private PeerMain() {}

  public static void main(String[] argv) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
        System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");

    Map<String, String> args = parse(argv);
    if (args == null) {
      System.err.println(USAGE);
      System.exit(2);
    }
    String lexicon = require(args, "lexicon");
    if (args.containsKey("score")) {
      Vader vader = loadLexicon(lexicon);
      if (!args.get("score").equals("-")) {
        System.out.printf(java.util.Locale.ROOT, "%.4f%n", vader.score(args.get("score")));
        return;
      }
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
          java.nio.charset.StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        System.out.printf(java.util.Locale.ROOT, "%.4f%n", vader.score(line));
      }
      return;
    }

    String bootstrap = require(args, "bootstrap");
    String input = require(args, "input");
    String alerts = require(args, "alerts");
    String appId = require(args, "app-id");
    String stateDir = require(args, "state-dir");
    long expect = number(args, "expect", 0);
    int threads = (int) number(args, "threads", 1);
    long commitMs = number(args, "commit-interval-ms", 100);
    if (expect < 0 || threads < 1 || commitMs < 0) {
      System.err.println("peer: --expect >= 0, --threads >= 1, --commit-interval-ms >= 0");
      System.exit(2);
    }

    Vader vader = loadLexicon(lexicon);
    Stats stats = new Stats(expect);
    Topology topology = topology(input, alerts, vader, stats);

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndContinueExceptionHandler.class);
    props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);  // quiets a warning
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    KafkaStreams streams = new KafkaStreams(topology, props);
    AtomicBoolean failed = new AtomicBoolean(false);
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println("peer: stream thread failed: " + e);
      failed.set(true);
      stats.done.countDown();
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.ERROR) {
        failed.set(true);
        stats.done.countDown();
      }
    });

    Finisher finisher = new Finisher(streams, stats);
    // SIGTERM/SIGINT: close cleanly, print the result, exit 0 (1 after a failure).
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (finisher.finish()) Runtime.getRuntime().halt(failed.get() ? 1 : 0);
    }, "peer-shutdown"));

    streams.start();
    stats.done.await();  // --expect reached, or a failure; with --expect 0 only a failure ends it
    finisher.finish();
    System.exit(failed.get() ? 1 : 0);
  }

  static Topology topology(String input, String alerts, Vader vader, Stats stats) {
    Topology topology = new Topology();
    topology.addSource("events", new ByteArrayDeserializer(), new ByteArrayDeserializer(), input);
    topology.addProcessor("cue", () -> new CueProcessor(vader, stats), "events");
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(CueProcessor.CONTACTS), Serdes.String(), Serdes.ByteArray())
        .withCachingEnabled(), "cue");
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(CueProcessor.CUSTOMERS), Serdes.String(), Serdes.Long())
        .withCachingEnabled(), "cue");
    topology.addSink("alerts", alerts, new StringSerializer(), new ByteArraySerializer(), "cue");
    return topology;
  }

  /** Closes the streams once (committing the open transaction) and prints the result once. */
  private static final class Finisher {
    private final KafkaStreams streams;
    private final Stats stats;
    private boolean finished;

    Finisher(KafkaStreams streams, Stats stats) {
      this.streams = streams;
      this.stats = stats;
    }

    /** Returns false when an earlier call already finished. */
    synchronized boolean finish() {
      if (finished) return false;
      finished = true;
      if (!streams.close(Duration.ofSeconds(60))) {
        System.err.println("peer: close() timed out after 60 s");
      }
      long end = System.nanoTime();
      System.out.println(stats.json(end));
      System.out.flush();
      return true;
    }
  }

  private static Vader loadLexicon(String path) {
    try {
      return new Vader(Path.of(path));
    } catch (java.io.IOException e) {
      System.err.println("peer: cannot read the lexicon " + path + ": " + e);
      System.exit(2);
      return null;
    }
  }

  private static Map<String, String> parse(String[] argv) {
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length) return null;
      args.put(argv[i].substring(2), argv[++i]);
    }
    return args;
  }

  private static String require(Map<String, String> args, String name) {
    String v = args.get(name);
    if (v == null || v.isEmpty()) {
      System.err.println("peer: --" + name + " is required\n" + USAGE);
      System.exit(2);
    }
    return v;
  }

  private static long number(Map<String, String> args, String name, long dflt) {
    String v = args.get(name);
    if (v == null) return dflt;
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      System.err.println("peer: --" + name + " must be a number, not '" + v + "'");
      System.exit(2);
      return dflt;
    }
  }
}
