// Small admin tool for the development broker, run by start.sh and topics.sh in Java's
// single-file source mode against the broker's own jars (kafka-clients' Admin API), so no
// kafka-tools artifact is needed.
//
// Usage:
//   KafkaAdmin <bootstrap> <timeout-s> wait
//       Waits until the broker answers and has registered itself.
//   KafkaAdmin <bootstrap> <timeout-s> create --topic <name> <partitions> [<key>=<value>...]...
//       Waits like `wait`, then creates each topic (replication factor 1) with the given topic
//       configs. A topic that already exists with the same partition count is accepted; a
//       different count is an error.
//   KafkaAdmin <bootstrap> <timeout-s> describe <name>...
//       Prints "<name> <partitions> cleanup.policy=<policy>" per topic.
// Exit status: 0 on success, 1 on failure (one message on stderr), 2 on bad usage.
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;

public class KafkaAdmin {
  private record TopicSpec(String name, int partitions, Map<String, String> configs) {}

  public static void main(String[] args) {
    if (args.length < 3) {
      usage("missing arguments");
    }
    String bootstrap = args[0];
    long deadline;
    try {
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
    } catch (NumberFormatException e) {
      usage("timeout must be a whole number of seconds: " + args[1]);
      return;
    }
    String command = args[2];
    List<String> rest = List.of(args).subList(3, args.length);

    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "ccstream-dev-admin");
    try (Admin admin = Admin.create(props)) {
      switch (command) {
        case "wait" -> awaitBroker(admin, bootstrap, deadline);
        case "create" -> {
          List<TopicSpec> specs = parseSpecs(rest);
          if (specs.isEmpty()) {
            usage("create needs at least one topic");
          }
          awaitBroker(admin, bootstrap, deadline);
          for (TopicSpec spec : specs) {
            createTopic(admin, spec, deadline);
          }
          awaitTopicsServed(admin, specs, deadline);
        }
        case "describe" -> describe(admin, rest);
        default -> usage("unknown command " + command);
      }
    } catch (Failure e) {
      System.err.println("kafka-admin: error: " + e.getMessage());
      System.exit(1);
    }
  }

  private static final class Failure extends Exception {
    Failure(String message) {
      super(message);
    }
  }

  private static void usage(String why) {
    System.err.println("kafka-admin: " + why);
    System.err.println("usage: KafkaAdmin <bootstrap> <timeout-s> wait");
    System.err.println("       KafkaAdmin <bootstrap> <timeout-s> create --topic <name> <partitions> [k=v...]...");
    System.err.println("       KafkaAdmin <bootstrap> <timeout-s> describe <name>...");
    System.exit(2);
  }

  private static List<TopicSpec> parseSpecs(List<String> args) {
    List<TopicSpec> specs = new ArrayList<>();
    int i = 0;
    while (i < args.size()) {
      if (!args.get(i).equals("--topic") || i + 2 >= args.size()) {
        usage("expected --topic <name> <partitions> at '" + args.get(i) + "'");
      }
      String name = args.get(i + 1);
      int partitions = 0;
      try {
        partitions = Integer.parseInt(args.get(i + 2));
      } catch (NumberFormatException e) {
        usage("bad partition count '" + args.get(i + 2) + "' for topic " + name);
      }
      if (name.isEmpty() || partitions < 1) {
        usage("topic " + name + " needs a name and at least 1 partition");
      }
      i += 3;
      Map<String, String> configs = new HashMap<>();
      while (i < args.size() && !args.get(i).equals("--topic")) {
        String kv = args.get(i++);
        int eq = kv.indexOf('=');
        if (eq <= 0) {
          usage("bad topic config '" + kv + "' for topic " + name + " (want key=value)");
        }
        configs.put(kv.substring(0, eq), kv.substring(eq + 1));
      }
      specs.add(new TopicSpec(name, partitions, configs));
    }
    return specs;
  }

  private static boolean expired(long deadline) {
    return System.nanoTime() - deadline > 0;
  }

  private static void pause() {
    try {
      Thread.sleep(250);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Throwable cause(ExecutionException e) {
    return e.getCause() != null ? e.getCause() : e;
  }

  // Waits until the cluster answers and lists at least one broker.
  private static void awaitBroker(Admin admin, String bootstrap, long deadline) throws Failure {
    String last = "no answer";
    while (!expired(deadline)) {
      try {
        if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
          return;
        }
        last = "the cluster lists no broker yet";
      } catch (ExecutionException e) {
        last = cause(e).toString();
      } catch (java.util.concurrent.TimeoutException e) {
        last = "no answer within 5 s";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Failure("interrupted");
      }
      pause();
    }
    throw new Failure("broker at " + bootstrap + " did not become ready in time: " + last);
  }

  private static void createTopic(Admin admin, TopicSpec spec, long deadline) throws Failure {
    NewTopic topic = new NewTopic(spec.name(), Optional.of(spec.partitions()), Optional.of((short) 1));
    topic.configs(spec.configs());
    String last = "";
    while (!expired(deadline)) {
      try {
        admin.createTopics(List.of(topic)).all().get(15, TimeUnit.SECONDS);
        System.out.println("created topic " + spec.name() + " (" + spec.partitions() + " partitions"
            + (spec.configs().isEmpty() ? "" : ", " + spec.configs()) + ")");
        return;
      } catch (ExecutionException e) {
        Throwable c = cause(e);
        if (c instanceof TopicExistsException) {
          int existing = partitionCount(admin, spec.name());
          if (existing != spec.partitions()) {
            throw new Failure("topic " + spec.name() + " already exists with " + existing
                + " partitions, not " + spec.partitions());
          }
          System.out.println("topic " + spec.name() + " already exists (" + existing + " partitions)");
          return;
        }
        if (!(c instanceof RetriableException || c instanceof InvalidReplicationFactorException)) {
          throw new Failure("cannot create topic " + spec.name() + ": " + c);
        }
        last = c.toString();
      } catch (java.util.concurrent.TimeoutException e) {
        last = "no answer within 15 s";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Failure("interrupted");
      }
      pause();
    }
    throw new Failure("timed out creating topic " + spec.name() + ": " + last);
  }

  // The controller acknowledges a new topic before the broker's metadata has it: waits until the
  // broker serves every partition of every topic with a leader, so clients find them at once.
  private static void awaitTopicsServed(Admin admin, List<TopicSpec> specs, long deadline)
      throws Failure {
    List<String> names = specs.stream().map(TopicSpec::name).toList();
    String last = "";
    while (!expired(deadline)) {
      try {
        Map<String, TopicDescription> topics =
            admin.describeTopics(names).allTopicNames().get(5, TimeUnit.SECONDS);
        boolean ready = true;
        for (TopicSpec spec : specs) {
          TopicDescription d = topics.get(spec.name());
          if (d == null || d.partitions().size() < spec.partitions()
              || d.partitions().stream().anyMatch(p -> p.leader() == null || p.leader().isEmpty())) {
            ready = false;
            last = "topic " + spec.name() + " has no leader for every partition yet";
          }
        }
        if (ready) {
          return;
        }
      } catch (ExecutionException e) {
        last = cause(e).toString();
      } catch (java.util.concurrent.TimeoutException e) {
        last = "no answer within 5 s";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Failure("interrupted");
      }
      pause();
    }
    throw new Failure("the broker does not serve the new topics yet: " + last);
  }

  private static int partitionCount(Admin admin, String name) throws Failure {
    try {
      TopicDescription d = admin.describeTopics(List.of(name)).allTopicNames().get().get(name);
      return d.partitions().size();
    } catch (ExecutionException e) {
      throw new Failure("cannot describe topic " + name + ": " + cause(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted");
    }
  }

  private static void describe(Admin admin, List<String> names) throws Failure {
    try {
      Map<String, TopicDescription> topics = admin.describeTopics(names).allTopicNames().get();
      List<ConfigResource> resources = new ArrayList<>();
      for (String name : names) {
        resources.add(new ConfigResource(ConfigResource.Type.TOPIC, name));
      }
      Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
      for (String name : names) {
        Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, name));
        System.out.println(name + " " + topics.get(name).partitions().size() + " cleanup.policy="
            + config.get("cleanup.policy").value());
      }
    } catch (ExecutionException e) {
      throw new Failure("cannot describe " + names + ": " + cause(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted");
    }
  }
}
