#!/usr/bin/env python3
"""Prints every PromQL expression of a Grafana dashboard, one per line.

Usage: dashboard_exprs.py [DASHBOARD_JSON]   (default: deploy/grafana/ccstream-dashboard.json)

Grafana's built-in interval variables ($__rate_interval, $__interval, ${__range}, ...) become
1m and dashboard variables ($queue, ${queue}, ${queue:regex}, [[queue]]) become .*, so that each
line can be sent as is to Prometheus' /api/v1/query. Expressions spanning several lines are
joined into one. Panels inside collapsed rows are included. Template-variable queries
(label_values(...)) are not PromQL and are left out.
"""

import json
import os
import re
import sys

DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                       "grafana", "ccstream-dashboard.json")

# $__name, ${__name}, ${__name:format}: Grafana's global variables (intervals and ranges).
GLOBAL_VAR = re.compile(r"\$\{__\w+(?::[^}]*)?\}|\$__\w+")
# $name, ${name}, ${name:format}, [[name]]: dashboard variables, used as regex matchers.
DASHBOARD_VAR = re.compile(r"\$\{\w+(?::[^}]*)?\}|\$\w+|\[\[\w+(?::[^\]]*)?\]\]")


def panels(items):
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def expressions(dashboard):
    for panel in panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            expr = target.get("expr", "")
            if not expr.strip() or target.get("hide"):
                continue
            expr = GLOBAL_VAR.sub("1m", expr)
            expr = DASHBOARD_VAR.sub(".*", expr)
            yield " ".join(expr.split())


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    for expr in expressions(dashboard):
        print(expr)


if __name__ == "__main__":
    main()
