#!/usr/bin/env python3
"""The end-to-end benchmark of ccstream against a real Kafka broker (called by bench/run.sh).

Stages, all on one broker in one run, after a warm-up (ccstream EXACTLY_ONCE drained over
--warmup-events events of a topic of their own, not measured: a broker started for the run
spends its first seconds of load compiling its hot paths, which the first stage measured would
otherwise pay for alone):
  1. baseline  - a plain librdkafka consumer reads the input topic (the ceiling).
  2. ccstream  - EXACTLY_ONCE and AT_LEAST_ONCE on the same topic: sustained events/s,
                 CPU seconds per million events, peak RSS.
  3. peer      - the Kafka Streams application of bench/peers/kafka-streams (exactly_once_v2).
  4. latency   - produce-to-visible alert latency at a fixed offered load, for both modes and
                 the peer.
  5. recovery  - kill -9 with N keys of state: time until processing resumes; then a fresh
                 instance restores from the changelog (records/s).
Writes <out>/<date>-<host>.json and .md and prints the JSON as the last line of its output.
"""
import argparse
import datetime
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

PARTITIONS = 12
START_MS = 1_767_258_000_000  # 2026-01-01T09:00:00Z: fixed, so the input is the same every run
KEY = "bench-pseudonymisation-key-0123456789"
# Latency runs: 30 s of traffic sent at once (contacts already in progress), then the paced
# load; samples start this long after the paced part does, once the processor has caught up.
LATENCY_WARMUP_S = 20
# The warm-up's events at most, unless --warmup-events says otherwise.
WARMUP_EVENTS = 1_000_000


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def last_json(text, what):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{what}: no JSON in its output:\n{text[-2000:]}")


class Harness:
    def __init__(self, args):
        self.args = args
        self.bootstrap = args.bootstrap
        self.prefix = args.prefix
        self.work = args.work
        self.results = {}
        self.details = {}

    # ---- helpers -------------------------------------------------------------------------
    def tool(self, *argv, timeout=1800):
        cmd = [self.args.tool, *map(str, argv)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
        return out.stdout

    def topic(self, name, partitions=PARTITIONS, config=""):
        argv = ["create-topic", "--bootstrap", self.bootstrap, "--topic", name,
                "--partitions", partitions]
        if config:
            argv += ["--config", config]
        self.tool(*argv)

    def ccstream_config(self, name, input_topic, guarantee, clock, port, state_dir):
        for suffix, config in (("alerts", ""), ("dead", "max.message.bytes=16777216"),
                               ("changelog", "cleanup.policy=compact")):
            self.topic(f"{self.prefix}.{name}.{suffix}", config=config)
        path = os.path.join(self.work, f"{name}.textproto")
        with open(path, "w") as f:
            f.write(f"""kafka {{
  bootstrap_servers: "{self.bootstrap}"
  group_id: "{self.prefix}-{name}"
  group_instance_id: "{self.prefix}-{name}-1"
  client_id: "{self.prefix}-{name}"
  input_topic: "{input_topic}"
  alerts_topic: "{self.prefix}.{name}.alerts"
  dead_letter_topic: "{self.prefix}.{name}.dead"
  changelog_topic: "{self.prefix}.{name}.changelog"
{self.producer_properties()}{self.consumer_properties()}}}
processing {{
  guarantee: {guarantee}
  clock: {clock}
  commit_interval_ms: {self.args.commit_interval_ms}
  max_batch_events: {self.args.max_batch_events}
  max_batch_bytes: {self.args.max_batch_bytes}
  catch_up_interval_ms: {self.args.catch_up_interval_ms}
  max_catch_up_batch_bytes: {self.args.max_catch_up_batch_bytes}
}}
http {{ port: {port} }}
state {{ dir: "{state_dir}" }}
domain {{ pseudonymisation_key: "{KEY}" }}
""")
        return path

    def producer_properties(self):
        """The config lines of the producer properties asked for (none: ccstream's defaults)."""
        if self.args.linger_ms is None:
            return ""
        return f'  producer_properties {{ key: "linger.ms" value: "{self.args.linger_ms}" }}\n'

    def consumer_properties(self):
        """The config lines of the processing consumer's properties asked for with
        --consumer-property KEY=VALUE (none: ccstream's defaults)."""
        lines = []
        for pair in getattr(self.args, "consumer_property", None) or []:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise ValueError(f"--consumer-property {pair!r}: expected KEY=VALUE")
            lines.append(f'  consumer_properties {{ key: "{key}" value: "{value}" }}\n')
        return "".join(lines)

    def start_ccstream(self, config, name, drain=False):
        argv = [self.args.ccstream, "run", "--config", config]
        if drain:
            argv.append("--drain")
        err = open(os.path.join(self.work, f"{name}.log"), "ab")
        out = open(os.path.join(self.work, f"{name}.out"), "wb")
        return subprocess.Popen(argv, stdout=out, stderr=err)

    @staticmethod
    def metrics(port, timeout=1.0):
        """The samples of ccstream's /metrics as {name: summed value}, and each labelled sample
        as {'name{labels}': value}; None while it is not up."""
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                          timeout=timeout).read().decode()
        except (OSError, http.client.HTTPException):
            # Not up yet, or a response cut off as the process exits (a drained run ends while
            # the harness polls it).
            return None
        values = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
            if m:
                values[m.group(1)] = values.get(m.group(1), 0.0) + float(m.group(3))
                if m.group(2):  # and each labelled sample as is, e.g. 'name{kind="memtables"}'
                    values[m.group(1) + m.group(2)] = float(m.group(3))
        return values

    @staticmethod
    def ready(port):
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).status == 200
        except (OSError, http.client.HTTPException):
            return False

    @staticmethod
    def exited(proc):
        """Reaps the process if it has ended, keeping its resource usage; True once it has."""
        if getattr(proc, "usage", None) is not None:
            return True
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid != proc.pid:
            return False
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.usage = usage
        return True

    def wait_exit(self, proc, timeout):
        """Waits for the process; returns (exit code, rusage). rusage counts the children it
        waited for (the peer's JVM under its run.sh)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited(proc):
                return proc.returncode, proc.usage
            time.sleep(0.05)
        proc.kill()
        raise RuntimeError(f"pid {proc.pid} did not finish within {timeout} s")

    def kill9(self, proc):
        proc.send_signal(signal.SIGKILL)
        return self.wait_exit(proc, 30)[1]

    def stop(self, proc, timeout=120):
        """SIGTERM and wait; returns the rusage."""
        if not self.exited(proc):
            proc.send_signal(signal.SIGTERM)
        return self.wait_exit(proc, timeout)[1]

    # ---- stages --------------------------------------------------------------------------
    def generate(self):
        self.input = f"{self.prefix}.input"
        self.produce_events(self.input, self.args.events)

    def produce_events(self, topic, n):
        self.topic(topic, config="max.message.bytes=16777216")
        log(f"producing {n:,} generated events (seed {self.args.seed}) to {topic}")
        t0 = time.monotonic()
        out = subprocess.run(
            [self.args.ccstream, "gen", "--bootstrap", self.bootstrap, "--topic", topic,
             "--seed", str(self.args.seed), "--rate", "2000", "--duration-s", "100000",
             "--max-events", str(n), "--start-ms", str(START_MS), "--warmup-s", "0",
             "--no-pace"], capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            raise RuntimeError(f"gen failed:\n{out.stderr[-2000:]}")
        produced = last_json(out.stdout, "gen")["produced"]
        if produced != n:
            raise RuntimeError(f"gen produced {produced}, wanted {n}")
        log(f"produced in {time.monotonic() - t0:.1f} s")

    def baseline(self):
        log("baseline consumer")
        out_path = os.path.join(self.work, "baseline.out")
        proc = subprocess.Popen(
            [self.args.tool, "consume", "--bootstrap", self.bootstrap, "--topic", self.input,
             "--expect", str(self.args.events), "--group", f"{self.prefix}-baseline"],
            stdout=open(out_path, "wb"), stderr=open(os.path.join(self.work, "baseline.log"), "ab"))
        code, usage = self.wait_exit(proc, 1800)
        if code != 0:
            raise RuntimeError(f"baseline consumer exited {code}; see {self.work}/baseline.log")
        out = last_json(open(out_path).read(), "baseline")
        out["cpu_s_per_million_events"] = round(
            (usage.ru_utime + usage.ru_stime) / max(out["events"], 1) * 1e6, 2)
        out["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
        self.details["baseline"] = out
        self.results["baseline_events_per_s"] = out["sustained_events_per_s"]
        log(f"baseline: {out['sustained_events_per_s']:,.0f} events/s, "
            f"{out['cpu_s_per_million_events']} CPU s per million")

    def warmup(self):
        """ccstream EXACTLY_ONCE drained over a topic of its own, before anything is measured: a
        broker started for the run compiles its hot paths (produce, fetch, transactions) in its
        first seconds under load, taking CPU from whatever shares its cores; the stage measured
        first would pay for that alone. Its figures go to the details, not the results."""
        n = warmup_events(self.args)
        topic = f"{self.prefix}.warmup"
        self.produce_events(topic, n)
        self.throughput("EXACTLY_ONCE", input_topic=topic, name="warmup", events=n, record=False)

    def throughput(self, mode, input_topic=None, name=None, events=None, record=True):
        """ccstream --drain over the whole input; sustained rate over the 10 %..90 % window.
        `record`: the figures are results (else only details, under `name`)."""
        name = name or f"tp-{mode.lower()}"
        port = free_port()
        state = os.path.join(self.work, f"state-{name}")
        config = self.ccstream_config(name, input_topic or self.input, mode, "EVENT_TIME", port,
                                      state)
        log(f"ccstream {mode}: {'throughput' if record else name}")
        proc = self.start_ccstream(config, name, drain=True)
        n = events if events is not None else self.args.events
        samples = []
        last = {}
        while not self.exited(proc):
            values = self.metrics(port, timeout=0.5)
            check_not_stalled(values, name)
            if values is not None:
                last = values
                samples.append((time.monotonic(), values.get("ccstream_events_processed_total", 0)
                                + values.get("ccstream_events_dead_lettered_total", 0)))
            time.sleep(0.05)
        code, usage = self.wait_exit(proc, 5)
        if code != 0:
            raise RuntimeError(f"ccstream {mode} exited {code}; see {self.work}/{name}.log")
        report = last_json(open(os.path.join(self.work, f"{name}.out")).read(), f"ccstream {mode}")

        def first_at(threshold):
            return next((s for s in samples if s[1] >= threshold), None)

        lo, hi = first_at(0.1 * n), first_at(0.9 * n)
        if not lo or not hi or hi[0] <= lo[0]:
            rate = report["events"] / report["seconds"]
        else:
            rate = (hi[1] - lo[1]) / (hi[0] - lo[0])
        cpu = usage.ru_utime + usage.ru_stime
        detail = {
            "events": report["events"], "dead_letters": report["dead_letters"],
            "alerts": report["alerts"], "batches": report["batches"],
            "sustained_events_per_s": round(rate),
            "whole_run_events_per_s": round(report["events"] / max(report["seconds"], 1e-9)),
            "cpu_s_per_million_events": round(cpu / max(report["events"], 1) * 1e6, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        }
        # What the state changes cost the broker, as of the last scrape (within 50 ms of the end).
        counted = max(last.get("ccstream_events_processed_total", 0), 1)
        for what in ("records", "bytes"):
            total = last.get(f"ccstream_changelog_{what}_total")
            if total is not None:
                detail[f"changelog_{what}_per_event"] = round(total / counted, 2)
        add_commit_figures(detail, last)
        self.details[name] = detail
        log(f"ccstream {mode}: {rate:,.0f} events/s, {detail['cpu_s_per_million_events']} CPU s "
            f"per million, {detail['peak_rss_mib']} MiB, {report['alerts']} alerts")
        if not record:
            return
        key = "eos" if mode == "EXACTLY_ONCE" else "alo"
        self.results[f"{key}_events_per_s"] = detail["sustained_events_per_s"]
        self.results[f"{key}_cpu_s_per_million_events"] = detail["cpu_s_per_million_events"]
        self.results[f"{key}_peak_rss_mib"] = detail["peak_rss_mib"]

    def peer_argv(self, app_id, input_topic, alerts_topic, expect):
        return [os.path.join(self.args.peer_dir, "run.sh"), "--bootstrap", self.bootstrap,
                "--input", input_topic, "--alerts", alerts_topic, "--app-id", app_id,
                "--state-dir", os.path.join(self.work, f"state-{app_id}"),
                "--lexicon", self.args.lexicon, "--expect", str(expect)]

    def peer_throughput(self):
        alerts = f"{self.prefix}.peer-tp.alerts"
        self.topic(alerts)
        log("peer (Kafka Streams, exactly_once_v2): throughput")
        err = open(os.path.join(self.work, "peer-tp.log"), "ab")
        out_path = os.path.join(self.work, "peer-tp.out")
        proc = subprocess.Popen(self.peer_argv(f"{self.prefix}-peer-tp", self.input, alerts,
                                               self.args.events),
                                stdout=open(out_path, "wb"), stderr=err)
        code, usage = self.wait_exit(proc, 3600)
        if code != 0:
            raise RuntimeError(f"peer exited {code}; see {self.work}/peer-tp.log")
        out = last_json(open(out_path).read(), "peer")
        rate = out.get("sustained_events_per_s") or out["events"] / out["seconds"]
        # wait4 counts the JVM too (run.sh's child, waited for by it).
        cpu = usage.ru_utime + usage.ru_stime
        out["cpu_s_per_million_events"] = round(cpu / max(out["events"], 1) * 1e6, 2)
        out["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
        self.details["peer-tp"] = out
        self.results["peer_events_per_s"] = round(rate)
        log(f"peer: {rate:,.0f} events/s, {out['alerts']} alerts")

    def latency(self, who):
        name = f"lat-{who}"
        input_topic = f"{self.prefix}.{name}.in"
        self.topic(input_topic, config="max.message.bytes=16777216")
        log(f"latency at {self.args.rate:,} events/s for {self.args.latency_s} s: {who}")
        if who == "peer":
            alerts = f"{self.prefix}.{name}.alerts"
            self.topic(alerts)
            err = open(os.path.join(self.work, f"{name}.log"), "ab")
            proc = subprocess.Popen(self.peer_argv(f"{self.prefix}-{name}", input_topic, alerts, 0),
                                    stdout=open(os.path.join(self.work, f"{name}.out"), "wb"),
                                    stderr=err)
            time.sleep(self.args.peer_startup_s)  # the JVM starts and joins its group
        else:
            port = free_port()
            mode = "EXACTLY_ONCE" if who == "eos" else "AT_LEAST_ONCE"
            config = self.ccstream_config(name, input_topic, mode, "WALL_CLOCK", port,
                                          os.path.join(self.work, f"state-{name}"))
            alerts = f"{self.prefix}.{name}.alerts"
            proc = self.start_ccstream(config, name)
            deadline = time.monotonic() + 60
            while not self.ready(port):
                if self.exited(proc) or time.monotonic() > deadline:
                    raise RuntimeError(f"ccstream {who} did not become ready; see {name}.log")
                time.sleep(0.1)
        scraped = None
        try:
            out = last_json(self.tool("latency", "--bootstrap", self.bootstrap, "--input",
                                      input_topic, "--alerts", alerts, "--rate", self.args.rate,
                                      "--duration-s", self.args.latency_s + LATENCY_WARMUP_S,
                                      "--warmup-s", LATENCY_WARMUP_S, "--lead-s", 30,
                                      "--seed", self.args.seed, "--samples-out",
                                      os.path.join(self.work, f"{name}.samples")),
                           f"latency {who}")
            if who != "peer":
                scraped = self.metrics(port)
        finally:
            self.stop(proc, timeout=60)
        if scraped:
            add_commit_figures(out, scraped)
            processed = scraped.get("ccstream_events_processed_total")
            cpu = scraped.get("process_cpu_seconds_total")
            if processed and cpu is not None:
                # The processor's CPU per event at this load, its start and the lead included.
                out["cpu_s_per_million_events"] = round(cpu / processed * 1e6, 1)
        self.details[name] = out
        self.results[f"{who}_p50_ms"] = out["p50_ms"]
        self.results[f"{who}_p99_ms"] = out["p99_ms"]
        self.results[f"{who}_p999_ms"] = out["p999_ms"]
        # The load the samples were taken under, as sent (the tool falls behind on a saturated
        # machine): the figures hold for this rate, not for the one asked.
        self.results[f"{who}_latency_offered_events_per_s"] = out["sampled_events_per_s"]
        log(f"{who}: p50 {out['p50_ms']} ms, p99 {out['p99_ms']} ms, p99.9 {out['p999_ms']} ms "
            f"over {out['samples']} alerts at {out['sampled_events_per_s']:,} events/s "
            f"({out['generators']} generators)")

    def recovery(self):
        keys = self.args.keys
        name = "rec"
        input_topic = f"{self.prefix}.rec.in"
        self.topic(input_topic, config="max.message.bytes=16777216")
        log(f"recovery: loading {keys:,} keys (a contact and a case per customer)")
        self.tool("load-state", "--bootstrap", self.bootstrap, "--topic", input_topic, "--keys",
                  keys, "--start-ms", START_MS)
        port = free_port()
        state = os.path.join(self.work, "state-rec")
        config = self.ccstream_config(name, input_topic, "EXACTLY_ONCE", "EVENT_TIME", port, state)
        proc = self.start_ccstream(config, "rec-a")
        wanted = 2 * keys
        deadline = time.monotonic() + 3600
        # The scrape with the largest resident set while building: where the peak's memory is.
        at_peak = {}
        while True:
            values = self.metrics(port) or {}
            check_not_stalled(values, "rec-a")
            done = values.get("ccstream_events_processed_total", 0)
            if (values.get("process_resident_memory_bytes", 0) >
                    at_peak.get("process_resident_memory_bytes", 0)):
                at_peak = values
            if done >= wanted:
                break
            if self.exited(proc) or time.monotonic() > deadline:
                raise RuntimeError("ccstream did not process the loaded state; see rec-a.log")
            time.sleep(0.2)
        build_metrics = values
        # Where the memory of the built state is (now, and at the largest resident set seen while
        # building): RocksDB's share (sampled every second), the allocator's, the resident set.
        built, peak = memory_mib(values), memory_mib(at_peak)
        rss_built_mib = resident_mib(proc.pid)
        log(f"state built: RSS {rss_built_mib} MiB; {describe_memory(built)}")
        log(f"at the largest RSS sampled while building: {describe_memory(peak)}")
        # The state is in: kill -9, add new input, start again on the same state directory.
        t_kill = time.monotonic()
        usage = self.kill9(proc)
        rss_mib = round(usage.ru_maxrss / 1024, 1)
        self.tool("load-state", "--bootstrap", self.bootstrap, "--topic", input_topic, "--keys",
                  1000, "--start-ms", START_MS + keys + 1000)
        proc = self.start_ccstream(config, "rec-b")
        while True:
            values = self.metrics(port, timeout=0.2) or {}
            if values.get("ccstream_events_processed_total", 0) > 0:
                break
            if self.exited(proc) or time.monotonic() - t_kill > 300:
                raise RuntimeError("ccstream did not resume after kill -9; see rec-b.log")
            time.sleep(0.02)
        resume_s = time.monotonic() - t_kill
        log(f"resumed {resume_s:.2f} s after kill -9 (state of {keys:,} keys); "
            f"peak RSS while building it {rss_mib} MiB")
        deadline = time.monotonic() + 300
        while True:
            values = self.metrics(port) or {}
            check_not_stalled(values, "rec-b")
            if values.get("ccstream_events_processed_total", 0) >= 2000:
                break
            if self.exited(proc):
                raise RuntimeError("ccstream stopped; see rec-b.log")
            if time.monotonic() > deadline:
                raise RuntimeError("ccstream did not process the 2,000 events added after the "
                                   "kill within 300 s; see rec-b.log")
            time.sleep(0.1)
        restarts_after_kill = int(values.get("ccstream_partition_fetch_restarts_total", 0))
        self.stop(proc)

        # A fresh instance (empty state directory) restores everything from the changelog.
        shutil.rmtree(state)
        t_start = time.monotonic()
        proc = self.start_ccstream(config, "rec-c")
        while True:
            values = self.metrics(port) or {}
            if self.ready(port) and values.get("ccstream_restore_last_seconds", 0) > 0:
                break
            if self.exited(proc) or time.monotonic() - t_start > 1800:
                raise RuntimeError("the fresh instance did not finish restoring; see rec-c.log")
            time.sleep(0.1)
        ready_s = time.monotonic() - t_start
        records = values.get("ccstream_restore_records_total", 0)
        seconds = values.get("ccstream_restore_last_seconds", 0)
        usage_c = self.stop(proc)
        self.details["recovery"] = {
            "keys": keys, "resume_after_kill_s": round(resume_s, 3),
            "restore_records": int(records), "restore_seconds": round(seconds, 3),
            "fresh_instance_ready_s": round(ready_s, 2),
            "fetch_restarts_after_kill": restarts_after_kill,
            "peak_rss_mib_building_state": rss_mib,
            "peak_rss_mib_restored": round(usage_c.ru_maxrss / 1024, 1),
            "cases_open": build_metrics.get("ccstream_cases_open", 0),
            "rss_mib_state_built": rss_built_mib,
            "memory_mib_state_built": built,
            "memory_mib_at_build_peak": peak,
        }
        self.results["resume_after_kill_s"] = round(resume_s, 3)
        self.results["restore_records_per_s"] = round(records / seconds) if seconds > 0 else 0
        # The same state restores from fewer or more changelog records as the changelog's form
        # changes (the timers left it: a third as many records for 1,000,000 keys); the keys of
        # state (a contact and a case per customer) restored per second do not depend on it.
        self.results["restore_keys_per_s"] = round(keys / seconds) if seconds > 0 else 0
        self.results["state_keys"] = keys
        log(f"restore: {int(records):,} records in {seconds:.2f} s "
            f"({self.results['restore_records_per_s']:,} records/s, "
            f"{self.results['restore_keys_per_s']:,} keys of state/s)")
        self.results["peak_rss_mib"] = max(rss_mib, round(usage_c.ru_maxrss / 1024, 1))


MEMORY_SERIES = {
    "resident_set": "process_resident_memory_bytes",
    **{f"allocator_{kind}": f'ccstream_allocator_bytes{{kind="{kind}"}}'
       for kind in ("allocated", "active", "resident")},
    **{f"rocksdb_{kind}": f'ccstream_rocksdb_memory_bytes{{kind="{kind}"}}'
       for kind in ("block_cache", "memtables", "table_readers")},
}


def add_commit_figures(detail, values):
    """Adds to `detail` the time the processing thread waited for commits (transaction or offset
    commit) as of one scrape of /metrics: the commits, their wait in all (commit_s) and per commit
    (commit_ms_per_batch); the share of state reads the decoded cache answered
    (state_reads_from_cache); and the fetches of input partitions the processor started again
    because they had not read on for 10 s of its waiting for records (fetch_restarts: a fetch
    librdkafka lost; none expected)."""
    commits = values.get("ccstream_batch_commit_seconds_count")
    if commits:
        waited = values.get("ccstream_batch_commit_seconds_sum", 0.0)
        detail["commit_ms_per_batch"] = round(waited / commits * 1e3, 1)
        detail["commit_s"] = round(waited, 2)
        detail["commits"] = int(commits)
    cache = values.get('ccstream_state_reads_total{source="cache"}', 0.0)
    store = values.get('ccstream_state_reads_total{source="store"}', 0.0)
    if cache + store:
        # The share of committed-state reads answered from the decoded records in memory.
        detail["state_reads_from_cache"] = round(cache / (cache + store), 3)
    restarts = values.get("ccstream_partition_fetch_restarts_total")
    if restarts is not None:
        detail["fetch_restarts"] = int(restarts)


def check_not_stalled(values, name):
    """Raises when ccstream's scrape shows started input partitions that do not read on
    (ccstream_partitions_stalled, after the processor's own minute): a drained run would never
    reach their ends, and a wait for their events would never end."""
    stalled = int((values or {}).get("ccstream_partitions_stalled", 0))
    if stalled > 0:
        raise RuntimeError(f"ccstream {name}: {stalled} input partition(s) stalled "
                           f"(ccstream_partitions_stalled: records wait that it does not read); "
                           f"see {name}.log")


def memory_mib(values):
    """{part: MiB} of the memory series of one scrape of /metrics (absent ones left out)."""
    return {part: round(values[series] / 2**20, 1) for part, series in MEMORY_SERIES.items()
            if series in values}


def describe_memory(mib):
    return ", ".join(f"{part} {value} MiB" for part, value in mib.items()) or "no memory metrics"


def resident_mib(pid):
    """The resident set of a running process in MiB (VmRSS), or 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0


def machine():
    cpu = platform.processor() or "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"host": socket.gethostname(), "cpus": os.cpu_count(), "cpu_model": cpu,
            "memory_gib": mem_gib, "kernel": platform.release(),
            "python": platform.python_version()}


def cpu_speed_mib_per_s(mib=64):
    """One core's speed now: SHA-256 (OpenSSL's, through hashlib) over `mib` MiB, in MiB/s. The
    machine's speed varies with its host's load (on the same machine, 2026-12-05: 1.75 s for 600
    MB at 10:50, 6.14 s at 12:28, and a drained run of 1,000,000 events 10.5 s against 24.6 s
    with the same binary); a run's figures compare with another's only when this agrees."""
    block = b"\x5a" * (1 << 20)
    h = hashlib.sha256()
    started = time.perf_counter()
    for _ in range(mib):
        h.update(block)
    return round(mib / max(time.perf_counter() - started, 1e-9), 1)


def warmup_events(args):
    """The events of the warm-up: --warmup-events, else as many as the run's input, up to
    1,000,000 (a full run's: profiled here, the broker's compiler still took a quarter of its CPU
    through five runs of 300,000 events, and 5 % after a run of 1,000,000 more)."""
    if args.warmup_events is not None:
        return args.warmup_events
    return min(WARMUP_EVENTS, args.events)


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def markdown(doc):
    r = doc["results"]
    lines = [f"# ccstream end-to-end benchmark, {doc['date']}", "",
             f"Machine: {doc['machine']['host']}, {doc['machine']['cpus']} CPUs "
             f"({doc['machine']['cpu_model']}), {doc['machine']['memory_gib']} GiB; "
             f"mode: {doc['mode']}; {doc['params']['events']:,} events, "
             f"{PARTITIONS} partitions, seed {doc['params']['seed']}; one broker on this "
             "machine, sharing its cores with the processor, warmed up by ccstream "
             f"EXACTLY_ONCE over {doc['params']['warmup_events']:,} events of their own before "
             "the stages."]
    speed = doc["machine"].get("sha256_mib_per_s")
    if speed:
        lines[-1] += (f" One core's speed (SHA-256, MiB/s) at the start and the end of the run: "
                      f"{speed['start']} and {speed['end']}; the host's load moves it (and every "
                      "figure) by up to 3x, so compare runs whose speeds agree.")
    lines += ["", "| figure | value | target | met |", "|---|---:|---|---|"]
    for name, value, target, met in doc["targets"]:
        lines.append(f"| {name} | {value} | {target} | {'yes' if met else 'NO'} |")
    lines += ["", "| key | value |", "|---|---:|"]
    for key, value in r.items():
        lines.append(f"| `{key}` | {value} |")
    lines += ["", "Details per stage:", "", "```json", json.dumps(doc["details"], indent=2),
              "```", ""]
    return "\n".join(lines)


def targets(r):
    t = []

    def add(name, value, target, met):
        t.append((name, value, target, bool(met)))

    add("EOS ÷ baseline", r.get("eos_vs_baseline"), ">= 0.5", (r.get("eos_vs_baseline") or 0) >= 0.5)
    add("EOS ÷ peer", r.get("eos_vs_peer"), ">= 3", (r.get("eos_vs_peer") or 0) >= 3)
    add("ALO ÷ baseline", r.get("alo_vs_baseline"), ">= 0.7", (r.get("alo_vs_baseline") or 0) >= 0.7)
    if "eos_p99_ms" in r:
        add("EOS p99 alert latency (ms)", r["eos_p99_ms"], "<= 150 and < peer",
            r["eos_p99_ms"] <= 150 and r["eos_p99_ms"] < r.get("peer_p99_ms", float("inf")))
        add("ALO p99 alert latency (ms)", r["alo_p99_ms"], "<= 25 and < peer",
            r["alo_p99_ms"] <= 25 and r["alo_p99_ms"] < r.get("peer_p99_ms", float("inf")))
    if "resume_after_kill_s" in r:
        add("resume after kill -9 (s)", r["resume_after_kill_s"], "<= 5", r["resume_after_kill_s"] <= 5)
        add("restore (records/s)", r["restore_records_per_s"], ">= 200000",
            r["restore_records_per_s"] >= 200000)
        add(f"peak RSS with {r['state_keys']:,} keys (MiB)", r["peak_rss_mib"], "<= 512",
            r["peak_rss_mib"] <= 512)
    return t


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--ccstream", required=True)
    p.add_argument("--tool", required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--peer-dir", required=True)
    p.add_argument("--lexicon", required=True)
    p.add_argument("--mode", default="full")
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--keys", type=int, default=1_000_000)
    p.add_argument("--rate", type=int, default=5000)
    p.add_argument("--latency-s", type=int, default=60)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--commit-interval-ms", type=int, default=50)
    p.add_argument("--max-batch-events", type=int, default=10000)
    p.add_argument("--max-batch-bytes", type=int, default=2097152)
    p.add_argument("--catch-up-interval-ms", type=int, default=1000)
    p.add_argument("--max-catch-up-batch-bytes", type=int, default=2621440)
    p.add_argument("--linger-ms", type=int, default=None,
                   help="ccstream's producer linger.ms (default: ccstream's own)")
    p.add_argument("--consumer-property", action="append", metavar="KEY=VALUE",
                   help="a property of ccstream's consumers, e.g. fetch.min.bytes=16384 "
                        "(repeatable; default: ccstream's own)")
    p.add_argument("--warmup-events", type=int, default=None,
                   help="events of the unmeasured warm-up run before the stages (default: the "
                        f"run's --events up to {WARMUP_EVENTS:,}; 0: none)")
    p.add_argument("--peer-startup-s", type=float, default=10)
    p.add_argument("--prefix", default="bench",
                   help="prefix of every topic and group name (several runs on one broker)")
    p.add_argument("--stages", default="baseline,eos,alo,peer,latency,recovery")
    args = p.parse_args()
    for pair in args.consumer_property or []:
        if not pair.partition("=")[0] or "=" not in pair:
            p.error(f"--consumer-property {pair!r}: expected KEY=VALUE")
    if args.warmup_events is not None and args.warmup_events < 0:
        p.error(f"--warmup-events {args.warmup_events}: expected 0 or more")
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    stages = set(args.stages.split(","))
    h = Harness(args)
    started = time.monotonic()
    speed_at_start = cpu_speed_mib_per_s()
    h.generate()
    if warmup_events(args) > 0:
        h.warmup()
    if "baseline" in stages:
        h.baseline()
    if "eos" in stages:
        h.throughput("EXACTLY_ONCE")
    if "alo" in stages:
        h.throughput("AT_LEAST_ONCE")
    if "peer" in stages:
        h.peer_throughput()
    if "latency" in stages:
        for who in ("eos", "alo") + (("peer",) if "peer" in stages else ()):
            h.latency(who)
    if "recovery" in stages:
        h.recovery()
    r = h.results
    r["eos_vs_baseline"] = ratio(r.get("eos_events_per_s"), r.get("baseline_events_per_s"))
    r["alo_vs_baseline"] = ratio(r.get("alo_events_per_s"), r.get("baseline_events_per_s"))
    r["eos_vs_peer"] = ratio(r.get("eos_events_per_s"), r.get("peer_events_per_s"))
    r["alo_vs_peer"] = ratio(r.get("alo_events_per_s"), r.get("peer_events_per_s"))
    if "peer_p99_ms" in r:
        r["eos_p99_vs_peer"] = ratio(r.get("eos_p99_ms"), r.get("peer_p99_ms"))
        r["alo_p99_vs_peer"] = ratio(r.get("alo_p99_ms"), r.get("peer_p99_ms"))
    now = datetime.datetime.now(datetime.timezone.utc)
    doc = {"date": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "mode": args.mode,
           "machine": dict(machine(), sha256_mib_per_s={"start": speed_at_start,
                                                          "end": cpu_speed_mib_per_s()}),
           "params": {"events": args.events, "keys": args.keys, "rate": args.rate,
                      "latency_s": args.latency_s, "seed": args.seed, "partitions": PARTITIONS,
                      "commit_interval_ms": args.commit_interval_ms,
                      "max_batch_events": args.max_batch_events,
                      "max_batch_bytes": args.max_batch_bytes,
                      "catch_up_interval_ms": args.catch_up_interval_ms,
                      "max_catch_up_batch_bytes": args.max_catch_up_batch_bytes,
                      "warmup_events": warmup_events(args)},
           "results": r, "details": h.details,
           "wall_seconds": round(time.monotonic() - started, 1)}
    doc["targets"] = targets(r)
    stem = result_stem(args.out, now.strftime('%Y-%m-%d'), socket.gethostname(), args.mode)
    with open(stem + ".json", "w") as f:
        json.dump(doc, f, indent=2)
    with open(stem + ".md", "w") as f:
        f.write(markdown(doc))
    print(markdown(doc))
    log(f"wrote {stem}.json and {stem}.md in {doc['wall_seconds']} s")
    print(json.dumps(r, separators=(",", ":")))


def result_stem(out, date, host, mode):
    """The path, without its extension, of a run's report in `out`: <date>-<host>, with -<mode>
    unless the mode is full, and -2, -3, ... when a report of that name is already there (the
    runs kept in bench/results are named by day: a second run that day must not replace one)."""
    base = os.path.join(out, f"{date}-{host}" + ("" if mode == "full" else f"-{mode}"))
    stem, n = base, 1
    while os.path.exists(stem + ".json") or os.path.exists(stem + ".md"):
        n += 1
        stem = f"{base}-{n}"
    return stem


if __name__ == "__main__":
    main()
