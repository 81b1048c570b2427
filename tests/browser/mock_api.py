#!/usr/bin/env python3
"""A stand-in for the ccstream live-floor API, to develop and test the wallboard without Kafka.

Serves processor/api/wallboard.html at / and the JSON API of the contract (cases, live contacts,
queues, the alert stream as server-sent events) from canned, in-memory data. Test hooks:

  POST /mock/contact?contact_id=K[&queue=Q]    an escalating live contact (ESCALATION alert)
  POST /mock/complaint?category=C[&ack_ms=MS]  a lodged complaint: a case whose acknowledge
                                                milestone is due in MS (default 8000); at the due
                                                time (+ --breach-lag-ms) it is breached and an
                                                SLA_BREACH alert is streamed
  POST /mock/drop-streams                       closes every open alert stream (reconnect test)

  mock_api.py [--port 0] [--port-file F] [--token T] [--html PATH] [--breach-lag-ms 400]

With --token every /api call needs `access_token=T` (query) or `Authorization: Bearer T`.
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_HTML = os.path.join(HERE, "..", "..", "processor", "api", "wallboard.html")
INSTANCE = {"group_id": "mock-group", "member": "mock-0", "partitions": [0, 1, 2]}
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


def now_ms():
    return int(time.time() * 1000)


class World:
    """All mock data; every access holds `lock`. Alerts wake the streams through `changed`."""

    def __init__(self, breach_lag_ms):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.breach_lag_ms = breach_lag_ms
        self.cases = {}
        self.contacts = {}
        self.alerts = []  # (id, alert)
        self.stream_generation = 0
        t = now_ms()
        # Canned data: a few cases at various points of their SLAs, contacts, queues.
        self._case("case-demo-critical", "CRITICAL", "billing", "billing", t - 50 * 60000,
                   "resolve", t - 50 * 60000, 3 * 3600000)
        self._case("case-demo-high", "HIGH", "fraud", "cards", t - 200000, "acknowledge",
                   t - 200000, 5 * 60000)
        self._case("case-demo-low", "LOW", "service", "general", t - 10000, "acknowledge",
                   t - 10000, 3600000, paused=True)
        self._case("case-demo-breached", "MEDIUM", "delivery <b>&amp;</b>", "orders",
                   t - 3 * 3600000, "acknowledge", t - 3 * 3600000, 3600000)
        self._contact("contact-demo-1", "billing", "VOICE", 1.3, 2, [
            ("escalation_phrase", 1, 0.5, "manager_request,repeat_contact"),
            ("repeated_dissatisfaction", 3, 0.4, "3 of 3 turns <= -0.30"),
            ("complaint_intent", 0.91, 0.4, "")])
        self._contact("contact-demo-2", "cards", "CHAT", 0.7, 1, [
            ("raised_voice", 2, 0.3, "<script>alert(1)</script>"),
            ("open_complaint", 1, 0.3, "")])
        self._contact("contact-quiet", "cards", "CHAT", 0.0, 0, [])
        self.queues = [
            self._queue("billing", 0.91, 0.88, 12.5, 0.02, 44, 43, 1, 2),
            self._queue("cards", 0.74, 0.79, 31.0, 0.06, 50, 47, 3, 5),
            self._queue("orders", 0.55, 0.6, 75.0, 0.14, 30, 26, 4, 9),
            self._queue("general", None, None, None, None, 0, 0, 0, 0),
        ]

    @staticmethod
    def _queue(name, sl15, sl60, asa, ab, offered, answered, abandoned, waiting):
        return {"queue": name, "target": 0.8, "service_level_15m": sl15,
                "service_level_60m": sl60, "asa_15m_s": asa, "abandonment_15m": ab,
                "offered_15m": offered, "answered_15m": answered, "abandoned_15m": abandoned,
                "waiting": waiting,
                "open_cases": {"LOW": 1, "MEDIUM": 2, "HIGH": 0, "CRITICAL": 1 if sl15 else 0}}

    def _case(self, case_id, severity, category, queue, opened, milestone, started, target,
              paused=False):
        self.cases[case_id] = {
            "case_id": case_id, "state": "OPEN", "severity": severity, "category": category,
            "queue": queue, "channel": "EMAIL", "opened_ms": opened, "updated_ms": opened,
            "repeat_count": 0, "policy_milestones": [(milestone, started, target, paused)],
            "audit": [{"time_ms": opened, "what": "OPENED", "actor": "ccstream",
                       "detail": "complaint_lodged", "event_id": case_id + "-e1"}],
            "breach_alerted": False}

    def _contact(self, contact_id, queue, channel, score, level, cues):
        t = now_ms()
        self.contacts[contact_id] = {
            "contact_id": contact_id, "queue": queue, "channel": channel, "state": "ANSWERED",
            "first_seen_ms": t - 240000, "queued_ms": t - 240000, "answered_ms": t - 200000,
            "escalation_score": score, "escalated": level > 0, "escalation_level": level,
            "cues": [{"cue": c, "value": v, "weight": w, "detail": d} for c, v, w, d in cues],
            "case_id": None}

    def milestones(self, case, t):
        out = []
        for name, started, target, paused in case["policy_milestones"]:
            deadline = started + target
            # A case is breached in the API once the breach was "processed" (alerted).
            breached = case["breach_alerted"] and t >= deadline
            out.append({"name": name, "started_ms": started, "deadline_ms": deadline,
                        "target_ms": target, "fraction": (t - started) / target,
                        "paused": paused, "breached": breached, "met": False,
                        "completed": False})
        return out

    def case_json(self, case, t, audit=False):
        ms = self.milestones(case, t)
        running = [m for m in ms if not m["completed"] and not m["breached"]]
        running.sort(key=lambda m: m["deadline_ms"])
        out = {k: v for k, v in case.items()
               if k not in ("policy_milestones", "audit", "breach_alerted")}
        out["milestones"] = ms
        out["breached"] = any(m["breached"] and not m["completed"] for m in ms)
        out["next_milestone"] = running[0] if running else None
        if audit:
            out["audit"] = case["audit"]
        return out

    def add_alert(self, alert):
        alert_id = len(self.alerts) + 1
        alert.setdefault("alert_id", "mock-alert-%d" % alert_id)
        alert.setdefault("event_time_ms", now_ms())
        for key in ("case_id", "contact_id", "queue", "category", "milestone"):
            alert.setdefault(key, "")
        for key in ("deadline_ms", "fraction", "score", "escalation_level", "rung"):
            alert.setdefault(key, 0)
        alert.setdefault("reasons", [])
        alert.setdefault("severity", "LOW")
        self.alerts.append((alert_id, alert))
        self.changed.notify_all()

    def breach_loop(self):
        while True:
            time.sleep(0.05)
            with self.lock:
                t = now_ms()
                for case in self.cases.values():
                    if case["breach_alerted"]:
                        continue
                    for name, started, target, paused in case["policy_milestones"]:
                        if not paused and t >= started + target + self.breach_lag_ms:
                            case["breach_alerted"] = True
                            self.add_alert({"kind": "SLA_BREACH", "severity": case["severity"],
                                            "case_id": case["case_id"], "queue": case["queue"],
                                            "category": case["category"], "milestone": name,
                                            "deadline_ms": started + target, "fraction": 1.0})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    world = None
    token = ""
    html_path = DEFAULT_HTML

    def log_message(self, fmt, *args):  # quiet; errors still go to stderr
        pass

    def _send(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, message):
        self._send(status, {"error": {"status": status, "message": message}})

    def _authorised(self, query):
        if not self.token:
            return True
        if query.get("access_token", [""])[0] == self.token:
            return True
        return self.headers.get("Authorization", "") == "Bearer " + self.token

    def do_POST(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        w = self.world
        if url.path == "/mock/contact":
            contact_id = q.get("contact_id", ["mock-contact"])[0]
            queue = q.get("queue", ["billing"])[0]
            with w.lock:
                w._contact(contact_id, queue, "VOICE", 0.9, 1, [
                    ("escalation_phrase", 1, 0.5, "manager_request,repeat_contact"),
                    ("repeated_dissatisfaction", 3, 0.4, "3 of 3 turns")])
                c = w.contacts[contact_id]
                w.add_alert({"kind": "ESCALATION", "severity": "MEDIUM", "contact_id": contact_id,
                             "queue": queue, "score": 0.9, "escalation_level": 1,
                             "reasons": c["cues"]})
            self._send(200, {"contact_id": contact_id})
        elif url.path == "/mock/complaint":
            category = q.get("category", ["billing"])[0]
            ack_ms = int(q.get("ack_ms", ["8000"])[0])
            t = now_ms()
            case_id = "case-" + hashlib.sha256(("%s-%d" % (category, t)).encode()).hexdigest()[:24]
            with w.lock:
                w._case(case_id, "MEDIUM", category, "billing", t, "acknowledge", t, ack_ms)
                w.add_alert({"kind": "CASE_OPENED", "severity": "MEDIUM", "case_id": case_id,
                             "queue": "billing", "category": category})
            self._send(200, {"case_id": case_id, "opened_ms": t, "deadline_ms": t + ack_ms})
        elif url.path == "/mock/drop-streams":
            with w.lock:
                w.stream_generation += 1
                w.changed.notify_all()
            self._send(200, {"dropped": True})
        else:
            self._error(404, "unknown path")

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        path = url.path
        if path in ("/", "/index.html", "/wallboard"):
            with open(self.html_path, "rb") as f:
                self._send(200, f.read(), "text/html; charset=utf-8")
            return
        if path == "/readyz":
            self._send(200, b"ready\n", "text/plain")
            return
        if not path.startswith("/api/"):
            self._error(404, "unknown path")
            return
        if not self._authorised(q):
            self._error(401, "missing or wrong bearer token")
            return
        w = self.world
        t = now_ms()
        if path == "/api/alerts/stream":
            self._stream()
            return
        with w.lock:
            if path == "/api/cases":
                limit = int(q.get("limit", ["50"])[0])
                cases = [w.case_json(c, t) for c in w.cases.values()]
                for key in ("state", "severity", "queue", "category"):
                    if key in q:
                        cases = [c for c in cases if c[key] == q[key][0]]
                if "breached" in q:
                    if q["breached"][0] not in ("true", "false"):
                        self._error(400, "breached must be true or false")
                        return
                    want = q["breached"][0] == "true"
                    cases = [c for c in cases if c["breached"] == want]
                cases.sort(key=lambda c: c["opened_ms"], reverse=True)
                body = {"instance": INSTANCE, "cases": cases[:limit], "next_cursor": None}
            elif path.startswith("/api/cases/"):
                case = w.cases.get(path[len("/api/cases/"):])
                if case is None:
                    self._error(404, "unknown case")
                    return
                body = {"instance": INSTANCE, "case": w.case_json(case, t, audit=True)}
            elif path == "/api/contacts/live":
                contacts = sorted(w.contacts.values(), key=lambda c: -c["escalation_score"])
                body = {"instance": INSTANCE, "contacts": contacts}
            elif path == "/api/queues":
                body = {"instance": INSTANCE, "queues": w.queues}
            else:
                self._error(404, "unknown path")
                return
        self._send(200, body)

    def _stream(self):
        w = self.world
        try:
            last = int(self.headers.get("Last-Event-ID") or 0)
        except ValueError:
            last = 0
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "keep-alive")
        self.end_headers()
        self.wfile.write(b"retry: 1000\n\n")
        self.wfile.flush()
        with w.lock:
            generation = w.stream_generation
        next_keepalive = time.time() + 15
        try:
            while True:
                with w.lock:
                    w.changed.wait(timeout=1.0)
                    if w.stream_generation != generation:
                        break
                    pending = [(i, a) for i, a in w.alerts if i > last]
                out = b""
                for i, a in pending:
                    out += ("id: %d\nevent: alert\ndata: %s\n\n" % (i, json.dumps(a))).encode()
                    last = i
                if time.time() >= next_keepalive:
                    out += b": keep-alive\n\n"
                    next_keepalive = time.time() + 15
                if out:
                    self.wfile.write(out)
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", default="")
    ap.add_argument("--token", default="")
    ap.add_argument("--html", default=DEFAULT_HTML)
    ap.add_argument("--breach-lag-ms", type=int, default=400)
    args = ap.parse_args()
    world = World(args.breach_lag_ms)
    Handler.world = world
    Handler.token = args.token
    Handler.html_path = os.path.abspath(args.html)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=world.breach_loop, daemon=True).start()
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(args.port_file + ".tmp", args.port_file)
    print("mock_api: http://127.0.0.1:%d/" % port, file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
