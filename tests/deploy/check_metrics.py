#!/usr/bin/env python3
"""Consistency checks between the deploy/ files and docs/observability.md.

Usage: check_metrics.py REPO_ROOT

1. Every metric name referenced by the rule files and the dashboard (ccstream_[a-z_]+, less the
   histogram suffixes _bucket/_sum/_count and the names of the recording rules) appears in the
   metric table of docs/observability.md.
2. Every alert rule has a severity label and summary, description and runbook annotations, and
   its runbook points to a heading of docs/observability.md.

Prints one line per problem and exits 1 if there is any. No dependency beyond the standard
library: the rule files are read line by line (they are written in the block style this needs).
"""

import os
import re
import subprocess
import sys

METRIC = re.compile(r"ccstream_[a-z_]+")
HISTOGRAM_SUFFIX = re.compile(r"_(bucket|sum|count)$")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def documented_metrics(doc):
    """Names in backquotes in the first cell of the rows of markdown tables."""
    names = set()
    for line in doc.splitlines():
        m = re.match(r"\s*\|\s*`(ccstream_[a-z_]+)`", line)
        if m:
            names.add(m.group(1))
    return names


def heading_anchors(doc):
    """GitHub-style anchors of the markdown headings."""
    anchors = set()
    for line in doc.splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            text = m.group(1).strip().lower()
            text = re.sub(r"[^\w\- ]", "", text)
            anchors.add(text.replace(" ", "-"))
    return anchors


def recording_names(rules_text):
    return re.findall(r"^\s*-\s*record:\s*(\S+)", rules_text, re.M)


def alert_blocks(rules_text):
    """(name, block text) for each `- alert:` entry."""
    parts = re.split(r"^(\s*)-\s*alert:\s*(\S+)\s*$", rules_text, flags=re.M)
    # parts: [before, indent, name, body, indent, name, body, ...]
    for i in range(1, len(parts) - 2, 3):
        name, body = parts[i + 1], parts[i + 2]
        # The block ends at the next entry of the same list (a `- record:` or a new group).
        body = re.split(r"^\s*-\s*(record|name):", body, flags=re.M)[0]
        yield name, body


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    doc = read(os.path.join(root, "docs", "observability.md"))
    recording = read(os.path.join(root, "deploy", "prometheus", "rules", "ccstream-recording.yml"))
    alerts = read(os.path.join(root, "deploy", "prometheus", "rules", "ccstream-alerts.yml"))
    dashboard_path = os.path.join(root, "deploy", "grafana", "ccstream-dashboard.json")
    exprs = subprocess.run([sys.executable, os.path.join(root, "tests", "deploy", "dashboard_exprs.py"),
                            dashboard_path], check=True, capture_output=True, text=True).stdout

    problems = []

    # 1. Metric names.
    documented = documented_metrics(doc)
    sources = {"ccstream-recording.yml": recording, "ccstream-alerts.yml": alerts,
               "ccstream-dashboard.json": exprs}
    referenced = 0
    for source, text in sources.items():
        # Recording-rule names first, so that e.g. queue:ccstream_service_level:ratio_rate5m
        # does not leave ccstream_service_level behind.
        for name in sorted(recording_names(recording), key=len, reverse=True):
            text = text.replace(name, " ")
        for token in sorted(set(METRIC.findall(text))):
            metric = HISTOGRAM_SUFFIX.sub("", token)
            referenced += 1
            if metric not in documented:
                problems.append(f"{source}: metric {metric} is not in the metric table of "
                                "docs/observability.md")

    # 2. Alert rules.
    anchors = heading_anchors(doc)
    count = 0
    for name, body in alert_blocks(alerts):
        count += 1
        if not re.search(r"^\s*severity:\s*(critical|warning|info)\s*$", body, re.M):
            problems.append(f"alert {name}: no severity label (critical, warning or info)")
        for key in ("summary", "description", "runbook"):
            if not re.search(rf"^\s*{key}:\s*\S", body, re.M):
                problems.append(f"alert {name}: no {key} annotation")
        m = re.search(r"^\s*runbook:\s*\S*docs/observability\.md#([\w-]+)\s*$", body, re.M)
        if not m:
            problems.append(f"alert {name}: runbook does not point to docs/observability.md#...")
        elif m.group(1) not in anchors:
            problems.append(f"alert {name}: runbook anchor #{m.group(1)} is not a heading of "
                            "docs/observability.md")
    if count == 0:
        problems.append("ccstream-alerts.yml: no alert rules found")

    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{referenced} metric references documented; {count} alerts with severity, summary, "
          "description and a runbook section")
    return 0


if __name__ == "__main__":
    sys.exit(main())
