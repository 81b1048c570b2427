package dev.ccstream.peer;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/** Counters shared by the stream threads, and the latch that ends an --expect run. */
final class Stats {
  private final long expect;
  private final AtomicLong processed = new AtomicLong();
  private final AtomicLong alerts = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final AtomicLong firstNanos = new AtomicLong(0);
  final CountDownLatch done = new CountDownLatch(1);

  Stats(long expect) {
    this.expect = expect;
  }

  void processed() {
    long n = processed.incrementAndGet();
    if (n == 1) firstNanos.compareAndSet(0, System.nanoTime());
    if (expect > 0 && n == expect) done.countDown();
  }

  void alert() {
    alerts.incrementAndGet();
  }

  void skipped() {
    skipped.incrementAndGet();
  }

  long processedCount() {
    return processed.get();
  }

  /** The result line: wall-clock seconds from the first processed record to {@code endNanos}. */
  String json(long endNanos) {
    long first = firstNanos.get();
    double seconds = first == 0 ? 0.0 : (endNanos - first) / 1e9;
    return String.format(java.util.Locale.ROOT,
        "{\"events\": %d, \"seconds\": %.3f, \"alerts\": %d, \"skipped\": %d}",
        processed.get(), seconds, alerts.get(), skipped.get());
  }
}
