"""The Grafana dashboard and the alert rules ask for series the worker exposes: every cjo_
metric named in an expression is one that GET /metrics serves (its families scraped through
Prometheus' own parser), every label grouped or matched on is one of that family's."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from streams.metrics import Tally, TimerCount, WorkerCollector, WorkerSource
from tests.deploy import manifests as m

DASHBOARD = m.ROOT / "deploy/grafana/dashboards/cjo.json"
ALERTS = m.ROOT / "deploy/compose/alerts.yml"
_NAME = re.compile(r"\b(cjo_[a-z_]+)\b")
_GROUPING = re.compile(r"\bby \(([^)]*)\)")
_MATCHER = re.compile(r"(cjo_[a-z_]+)\{([^}]*)\}")


def _served() -> dict[str, set[str]]:
    """Every series name /metrics serves -> its label names."""
    tally = Tally()
    tally.decided([{"outcome": "SENT", "reasons": ["channel:sms"], "ingested_at": 0}],
                  [{"channel": "SMS"}], now_ms=10)
    tally.answered("degraded", 0.1)
    source = WorkerSource()
    source.counts = lambda: Counter({"usage": 1})
    source.tally = lambda: tally
    source.lag = lambda: {("cjo.events.usage", 0): 1}
    source.timers = lambda: [TimerCount(0, 1, 1)]
    source.model = lambda: (1, {"t": 0.5})
    source.rebalances = lambda: 0
    source.ready = lambda: True
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkerCollector(source))
    served: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            served.setdefault(sample.name, set()).update(sample.labels)
    return served


def _jobs() -> set[str]:
    config = yaml.safe_load((m.ROOT / "deploy/compose/prometheus.yml").read_text())
    return {job["job_name"] for job in config["scrape_configs"]}


def _expressions() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    found = [(f"dashboard: {panel['title']}", target["expr"])
             for panel in dashboard["panels"] for target in panel["targets"]]
    rules = yaml.safe_load(ALERTS.read_text())
    found += [(f"alert {rule['alert']}", rule["expr"]) for group in rules["groups"]
              for rule in group["rules"]]
    return found


def _check(where: str, expr: str, served: dict[str, set[str]]) -> list[str]:
    problems = []
    names = set(_NAME.findall(expr))
    scrape = re.fullmatch(r'up\{job="([^"]+)"\} == 0', expr.strip())
    if scrape:  # Prometheus' own series for a scrape job of prometheus.yml
        return [] if scrape.group(1) in _jobs() else [f"{where}: no scrape job {scrape[1]}"]
    if not names:
        return [f"{where}: no cjo_ metric in {expr!r}"]
    for name in names - set(served):
        problems.append(f"{where}: {name} is not served by /metrics")
    labels = set().union(*(served.get(name, set()) for name in names)) | {"le", "instance", "job"}
    for grouping in _GROUPING.findall(expr):
        problems += [f"{where}: no label {label!r} on {names}"
                     for label in (x.strip() for x in grouping.split(",")) if label not in labels]
    for name, matchers in _MATCHER.findall(expr):
        for label in re.findall(r"(\w+)\s*=~?", matchers):
            if label not in served.get(name, set()):
                problems.append(f"{where}: {name} has no label {label!r}")
    return problems


def test_every_expression_reads_a_served_series() -> None:
    served = _served()
    expressions = _expressions()
    assert len(expressions) >= 20
    problems = [p for where, expr in expressions for p in _check(where, expr, served)]
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_wrong_name_and_label() -> None:
    served = _served()
    assert _check("x", "sum(rate(cjo_event_total[1m]))", served)
    assert _check("x", "sum by (channel) (rate(cjo_events_total[1m]))", served)
    assert _check("x", 'cjo_offers_total{chanel="sms"}', served)
    assert _check("x", 'up{job="cjo-workers"} == 0', served)
    assert not _check("x", 'sum by (channel) (rate(cjo_offers_total{channel="sms"}[1m]))',
                      served)


def test_grafana_provisioning_points_at_the_dashboard_and_prometheus() -> None:
    provisioning = m.ROOT / "deploy/grafana/provisioning"
    sources = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())
    (source,) = sources["datasources"]
    dashboard = json.loads(DASHBOARD.read_text())
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p["targets"]}
    assert uids == {source["uid"]}
    assert source["url"] == "http://prometheus:9090" and "prometheus" in m.compose()["services"]
    providers = yaml.safe_load((provisioning / "dashboards/cjo.yml").read_text())["providers"]
    grafana = m.compose()["services"]["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    path = Path(providers[0]["options"]["path"])
    assert mounts["./deploy/grafana/dashboards"] == str(path)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
