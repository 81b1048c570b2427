package dev.ccstream.peer;

import ccstream.v1.AlertOuterClass.Alert;
import ccstream.v1.AlertOuterClass.AlertKind;
import ccstream.v1.AlertOuterClass.AlertReason;
import ccstream.v1.Events.ContactEvent;
import ccstream.v1.Events.Speaker;
import ccstream.v1.Events.Turn;
import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.ByteBuffer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The repeated-dissatisfaction cue and the per-customer open-case count, on the customer-keyed
 * input stream. Every event of a contact carries the same customer id, so keying the contact
 * state by contact id inside this processor needs no repartition.
 *
 * <p>Contact state (store {@value #CONTACTS}, key contact id): one byte "alerted", one byte
 * window length, then up to {@value #WINDOW} floats, the latest customer-turn sentiments, oldest
 * first. Deleted when the contact ends or is abandoned. Customer state (store {@value
 * #CUSTOMERS}, key customer id): the number of cases opened for the customer, never decremented.
 */
final class CueProcessor implements Processor<byte[], byte[], String, byte[]> {
  static final String CONTACTS = "contacts";
  static final String CUSTOMERS = "open-cases";
  static final String CUE = "repeated_dissatisfaction";

  static final int WINDOW = 5;           // window_turns
  static final int MIN_TURNS = 3;        // min_turns
  static final double AT_MOST = -0.3;    // sentiment_at_most

  private final Vader vader;
  private final Stats stats;
  private ProcessorContext<String, byte[]> context;
  private KeyValueStore<String, byte[]> contacts;
  private KeyValueStore<String, Long> customers;

  CueProcessor(Vader vader, Stats stats) {
    this.vader = vader;
    this.stats = stats;
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.contacts = context.getStateStore(CONTACTS);
    this.customers = context.getStateStore(CUSTOMERS);
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    try {
      handle(record);
    } finally {
      stats.processed();
    }
  }

  private void handle(Record<byte[], byte[]> record) {
    if (record.value() == null) {
      stats.skipped();
      return;
    }
    ContactEvent event;
    try {
      event = ContactEvent.parseFrom(record.value());
    } catch (InvalidProtocolBufferException e) {
      stats.skipped();
      return;
    }
    if (event.getContactId().isEmpty() || event.getCustomerId().isEmpty()
        || event.getPayloadCase() == ContactEvent.PayloadCase.PAYLOAD_NOT_SET) {
      stats.skipped();
      return;
    }
    switch (event.getPayloadCase()) {
      case TURN:
        if (event.getTurn().getSpeaker() == Speaker.CUSTOMER) onCustomerTurn(event, record.timestamp());
        break;
      case ENDED:
      case ABANDONED:
        contacts.delete(event.getContactId());
        break;
      default:
        break;
    }
  }

  private void onCustomerTurn(ContactEvent event, long timestamp) {
    Turn turn = event.getTurn();
    double sentiment;
    if (turn.hasUpstreamSentiment()) {
      sentiment = Math.max(-1.0, Math.min(1.0, turn.getUpstreamSentiment()));
    } else if (!turn.getText().isEmpty()) {
      sentiment = vader.score(turn.getText());
    } else {
      return;
    }
    if (!Double.isFinite(sentiment)) return;

    String contactId = event.getContactId();
    byte[] old = contacts.get(contactId);
    boolean alerted = old != null && old[0] != 0;
    int n = old == null ? 0 : old[1];
    float[] window = new float[Math.min(WINDOW, n + 1)];
    // Keep the latest WINDOW - 1 old values, then append the new one.
    int keep = window.length - 1;
    for (int k = 0; k < keep; k++) {
      window[k] = ByteBuffer.wrap(old, 2 + 4 * (n - keep + k), 4).getFloat();
    }
    window[keep] = (float) sentiment;

    int dissatisfied = 0;
    for (float s : window) {
      if (s <= AT_MOST + 1e-9) dissatisfied++;
    }
    boolean fire = !alerted && dissatisfied >= MIN_TURNS;

    ByteBuffer state = ByteBuffer.allocate(2 + 4 * window.length);
    state.put((byte) (alerted || fire ? 1 : 0)).put((byte) window.length);
    for (float s : window) state.putFloat(s);
    contacts.put(contactId, state.array());

    if (!fire) return;
    String customer = event.getCustomerId();
    Long cases = customers.get(customer);
    long openCases = (cases == null ? 0 : cases) + 1;
    customers.put(customer, openCases);

    Alert alert = Alert.newBuilder()
        .setAlertId(contactId + "/escalation/" + CUE)
        .setKind(AlertKind.ESCALATION)
        .setContactId(contactId)
        .setCustomerKey(customer)
        .setQueue(event.getQueue())
        .setChannel(event.getChannel())
        .addReasons(AlertReason.newBuilder().setCue(CUE).setValue(dissatisfied)
            .setDetail("of the last " + window.length + " customer turns"))
        .setEventTimeMs(event.getEventTimeMs())
        .setSourceEventId(event.getEventId())
        .setRepeatCount((int) Math.min(Integer.MAX_VALUE, openCases))
        .build();
    context.forward(new Record<>(contactId, alert.toByteArray(), timestamp));
    stats.alert();
  }
}
