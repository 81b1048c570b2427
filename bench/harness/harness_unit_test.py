#!/usr/bin/env python3
"""Unit tests of the harness's own parts that need no broker: reading ccstream's /metrics,
including a response cut off as the process exits (a drained run ends while it is polled); the
commit figures taken from it; the producer properties of the configurations it writes; the size
of the warm-up; the names of the reports; the machine's speed in the report; a stalled
partition ending a wait."""
import importlib.util
import os
import socket
import tempfile
import threading
import types
import unittest

spec = importlib.util.spec_from_file_location(
    "harness", os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py"))
harness = importlib.util.module_from_spec(spec)
spec.loader.exec_module(harness)


class OneResponse:
    """A server on a free port that answers one request with `raw` bytes, then closes."""

    def __init__(self, raw):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, args=(raw,), daemon=True)
        self.thread.start()

    def serve(self, raw):
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(raw)
        self.sock.close()

    def join(self):
        self.thread.join(5)


def response(body, length=None):
    length = len(body) if length is None else length
    return (f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n"
            "Connection: close\r\n\r\n").encode() + body


class MetricsTest(unittest.TestCase):
    def test_sums_samples_and_keeps_labelled_ones(self):
        server = OneResponse(response(
            b"# HELP ccstream_x x\n# TYPE ccstream_x counter\n"
            b'ccstream_x{kind="a"} 2\nccstream_x{kind="b"} 3.5\nccstream_y 7\n'))
        values = harness.Harness.metrics(server.port, timeout=2)
        server.join()
        self.assertEqual(values["ccstream_x"], 5.5)
        self.assertEqual(values['ccstream_x{kind="a"}'], 2.0)
        self.assertEqual(values["ccstream_y"], 7.0)

    def test_a_response_cut_off_reads_as_not_up(self):
        server = OneResponse(response(b"ccstream_y 7\n", length=69774))
        self.assertIsNone(harness.Harness.metrics(server.port, timeout=2))
        server.join()

    def test_nothing_listening_reads_as_not_up(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.assertIsNone(harness.Harness.metrics(port, timeout=1))
        self.assertFalse(harness.Harness.ready(port))


class CommitFiguresTest(unittest.TestCase):
    def test_the_wait_per_commit_and_in_all(self):
        detail = {}
        harness.add_commit_figures(detail, {"ccstream_batch_commit_seconds_count": 40.0,
                                            "ccstream_batch_commit_seconds_sum": 1.5})
        self.assertEqual(detail, {"commit_ms_per_batch": 37.5, "commit_s": 1.5, "commits": 40})

    def test_the_share_of_state_reads_from_the_cache(self):
        detail = {}
        harness.add_commit_figures(detail, {'ccstream_state_reads_total{source="cache"}': 300.0,
                                            'ccstream_state_reads_total{source="store"}': 100.0})
        self.assertEqual(detail, {"state_reads_from_cache": 0.75})

    def test_the_fetches_started_again(self):
        detail = {}
        harness.add_commit_figures(detail, {"ccstream_partition_fetch_restarts_total": 2.0})
        self.assertEqual(detail, {"fetch_restarts": 2})
        harness.add_commit_figures(detail, {"ccstream_partition_fetch_restarts_total": 0.0})
        self.assertEqual(detail, {"fetch_restarts": 0})

    def test_nothing_added_before_a_commit(self):
        detail = {"alerts": 3}
        harness.add_commit_figures(detail, {"ccstream_batch_commit_seconds_count": 0.0})
        harness.add_commit_figures(detail, {})
        self.assertEqual(detail, {"alerts": 3})


class StalledPartitionsTest(unittest.TestCase):
    def test_a_stalled_partition_ends_the_wait_naming_the_log(self):
        with self.assertRaisesRegex(RuntimeError,
                                    r"rec-b: 1 input partition\(s\) stalled.*rec-b\.log"):
            harness.check_not_stalled({"ccstream_partitions_stalled": 1.0}, "rec-b")

    def test_none_stalled_or_not_up_waits_on(self):
        harness.check_not_stalled({"ccstream_partitions_stalled": 0.0}, "eos")
        harness.check_not_stalled({}, "eos")
        harness.check_not_stalled(None, "eos")


class ProducerPropertiesTest(unittest.TestCase):
    @staticmethod
    def harness_with(linger_ms):
        return harness.Harness(types.SimpleNamespace(bootstrap="b:1", prefix="p", work="/tmp",
                                                     linger_ms=linger_ms))

    def test_none_unless_asked(self):
        self.assertEqual(self.harness_with(None).producer_properties(), "")

    def test_the_linger_asked_for(self):
        self.assertEqual(self.harness_with(1).producer_properties(),
                         '  producer_properties { key: "linger.ms" value: "1" }\n')


class ConsumerPropertiesTest(unittest.TestCase):
    @staticmethod
    def harness_with(pairs):
        return harness.Harness(types.SimpleNamespace(bootstrap="b:1", prefix="p", work="/tmp",
                                                     linger_ms=None, consumer_property=pairs))

    def test_none_unless_asked(self):
        self.assertEqual(self.harness_with(None).consumer_properties(), "")

    def test_each_pair_asked_for(self):
        self.assertEqual(
            self.harness_with(["fetch.min.bytes=16384", "fetch.wait.max.ms=10"])
            .consumer_properties(),
            '  consumer_properties { key: "fetch.min.bytes" value: "16384" }\n'
            '  consumer_properties { key: "fetch.wait.max.ms" value: "10" }\n')

    def test_a_pair_without_a_value_is_refused(self):
        with self.assertRaisesRegex(ValueError, "expected KEY=VALUE"):
            self.harness_with(["fetch.min.bytes"]).consumer_properties()


class WarmupEventsTest(unittest.TestCase):
    @staticmethod
    def args(events, warmup_events=None):
        return types.SimpleNamespace(events=events, warmup_events=warmup_events)

    def test_the_run_s_events_up_to_the_cap(self):
        self.assertEqual(harness.warmup_events(self.args(20_000)), 20_000)
        self.assertEqual(harness.warmup_events(self.args(5_000_000)), harness.WARMUP_EVENTS)

    def test_the_number_asked_for(self):
        self.assertEqual(harness.warmup_events(self.args(1_000_000, 50_000)), 50_000)
        self.assertEqual(harness.warmup_events(self.args(1_000_000, 0)), 0)


class ResultStemTest(unittest.TestCase):
    def test_named_by_day_host_and_mode(self):
        with tempfile.TemporaryDirectory() as out:
            self.assertEqual(harness.result_stem(out, "2026-12-03", "vm", "full"),
                             os.path.join(out, "2026-12-03-vm"))
            self.assertEqual(harness.result_stem(out, "2026-12-03", "vm", "quick"),
                             os.path.join(out, "2026-12-03-vm-quick"))

    def test_a_report_of_the_day_is_not_replaced(self):
        with tempfile.TemporaryDirectory() as out:
            open(os.path.join(out, "2026-12-03-vm.json"), "w").close()
            self.assertEqual(harness.result_stem(out, "2026-12-03", "vm", "full"),
                             os.path.join(out, "2026-12-03-vm-2"))
            open(os.path.join(out, "2026-12-03-vm-2.md"), "w").close()
            self.assertEqual(harness.result_stem(out, "2026-12-03", "vm", "full"),
                             os.path.join(out, "2026-12-03-vm-3"))
            # Another mode's report takes nothing from it.
            self.assertEqual(harness.result_stem(out, "2026-12-03", "vm", "quick"),
                             os.path.join(out, "2026-12-03-vm-quick"))




class CpuSpeedTest(unittest.TestCase):
    def test_a_positive_rate(self):
        self.assertGreater(harness.cpu_speed_mib_per_s(mib=4), 0)

    def test_the_report_names_the_speeds_at_start_and_end(self):
        doc = {"date": "2026-12-05T12:00:00Z", "mode": "quick",
               "machine": {"host": "h", "cpus": 2, "cpu_model": "m", "memory_gib": 1.0,
                           "sha256_mib_per_s": {"start": 512.5, "end": 171.0}},
               "params": {"events": 10, "seed": 1, "warmup_events": 0},
               "targets": [], "results": {}, "details": {}}
        text = harness.markdown(doc)
        self.assertIn("512.5 and 171.0", text)
        doc["machine"].pop("sha256_mib_per_s")
        self.assertNotIn("SHA-256", harness.markdown(doc))

if __name__ == "__main__":
    unittest.main()
