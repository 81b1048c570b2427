package dev.ccstream.peer;

import ccstream.v1.Events.Channel;
import ccstream.v1.Events.ContactAnswered;
import ccstream.v1.Events.ContactEnded;
import ccstream.v1.Events.ContactEvent;
import ccstream.v1.Events.ContactQueued;
import ccstream.v1.Events.Speaker;
import ccstream.v1.Events.Turn;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A small stand-in for {@code ccstream gen}, for the smoke test when no ccstream binary is at
 * hand: writes whole contacts (queued, answered, agent and customer turns, ended), one in
 * {@code --angry-every} of them with dissatisfied customer turns, plus {@code --malformed}
 * records that are not ContactEvents. Prints the number of records written to stdout.
 *
 * <pre>
 *   java -cp peer.jar dev.ccstream.peer.GenMain --bootstrap HOST:PORT --topic T
 *       [--contacts 200] [--angry-every 5] [--malformed 3] [--seed 1]
 *   java -cp peer.jar dev.ccstream.peer.GenMain --bootstrap HOST:PORT --create-topics T1:P1,T2:P2
 * </pre>
 *
 * <p>{@code --create-topics} creates the topics (replication factor 1; an existing topic is
 * accepted) and exits.
 */
public final class GenMain {
  private static final String[] CALM = {
      "Hi, I would like to check my last bill please.",
      "Thanks, that makes sense.",
      "Great, thank you for your help today.",
      "Could you tell me when the payment is due?",
  };
  private static final String[] ANGRY = {
      "This is ridiculous, I have been charged twice and nobody fixes it!",
      "I am really angry, this is the worst service I have ever had.",
      "That is unacceptable and I am furious about it.",
      "You people are useless, this is a terrible disgrace!!",
  };

  private GenMain() {}

  public static void main(String[] argv) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    String bootstrap = null;
    String topic = null;
    int contacts = 200;
    int angryEvery = 5;
    int malformed = 3;
    long seed = 1;
    String create = null;
    for (int i = 0; i + 1 < argv.length; i += 2) {
      switch (argv[i]) {
        case "--bootstrap": bootstrap = argv[i + 1]; break;
        case "--topic": topic = argv[i + 1]; break;
        case "--contacts": contacts = Integer.parseInt(argv[i + 1]); break;
        case "--angry-every": angryEvery = Integer.parseInt(argv[i + 1]); break;
        case "--malformed": malformed = Integer.parseInt(argv[i + 1]); break;
        case "--seed": seed = Long.parseLong(argv[i + 1]); break;
        case "--create-topics": create = argv[i + 1]; break;
        default:
          System.err.println("gen: unknown flag " + argv[i]);
          System.exit(2);
      }
    }
    if (bootstrap != null && create != null) {
      createTopics(bootstrap, create);
      return;
    }
    if (bootstrap == null || topic == null) {
      System.err.println("usage: gen --bootstrap HOST:PORT --topic T [--contacts N]"
          + " [--angry-every K] [--malformed M] [--seed S]");
      System.exit(2);
    }
    final String out = topic;
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    Random rng = new Random(seed);
    long sent = 0;
    long t = 1_767_225_600_000L;  // 2026-01-01T00:00:00Z
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (int c = 0; c < contacts; c++) {
        String customer = "cust-" + rng.nextInt(Math.max(1, contacts / 2));
        String contact = "gen-" + seed + "-" + c;
        boolean angry = angryEvery > 0 && c % angryEvery == 0;
        ContactEvent.Builder base = ContactEvent.newBuilder().setContactId(contact)
            .setCustomerId(customer).setChannel(Channel.CHAT).setQueue("billing");
        int[] seq = {0};
        java.util.function.Consumer<ContactEvent.Builder> send = e -> {
          ContactEvent ev = e.setEventId(contact + "-" + seq[0]++).build();
          producer.send(new ProducerRecord<>(out, customer, ev.toByteArray()));
        };
        t += 1000;
        send.accept(base.clone().setEventTimeMs(t).setQueued(ContactQueued.getDefaultInstance()));
        send.accept(base.clone().setEventTimeMs(t + 1).setAnswered(ContactAnswered.getDefaultInstance()));
        int turns = 3 + rng.nextInt(4);
        for (int k = 0; k < turns; k++) {
          send.accept(base.clone().setEventTimeMs(t + 2 + 2 * k).setTurn(Turn.newBuilder()
              .setSpeaker(Speaker.AGENT).setText("I understand, let me check that for you.")));
          String[] pool = angry ? ANGRY : CALM;
          send.accept(base.clone().setEventTimeMs(t + 3 + 2 * k).setTurn(Turn.newBuilder()
              .setSpeaker(Speaker.CUSTOMER).setText(pool[rng.nextInt(pool.length)])));
        }
        send.accept(base.clone().setEventTimeMs(t + 100).setEnded(ContactEnded.getDefaultInstance()));
        sent += 3 + 2L * turns;
      }
      for (int m = 0; m < malformed; m++) {
        producer.send(new ProducerRecord<>(topic, "cust-bad",
            ("not a protobuf \u00ff\u00fe" + m).getBytes(StandardCharsets.ISO_8859_1)));
        sent++;
      }
      producer.flush();
    }
    System.out.println(sent);
  }

  private static void createTopics(String bootstrap, String spec) throws Exception {
    List<NewTopic> topics = new ArrayList<>();
    for (String t : spec.split(",")) {
      int colon = t.lastIndexOf(':');
      topics.add(new NewTopic(t.substring(0, colon), Integer.parseInt(t.substring(colon + 1)),
          (short) 1));
    }
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      for (var entry : admin.createTopics(topics).values().entrySet()) {
        try {
          entry.getValue().get();
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
      }
    }
  }
}
