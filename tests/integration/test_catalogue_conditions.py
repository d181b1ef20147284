"""The catalogue's newer syntax through a real worker on the session's broker: a usage threshold
per category (its daily sum kept in the subscriber's RocksDB state between records), a count
whose ``where`` holds a range and a set, a return home told where she was, and a trip offer
whose eligibility is decided by the profile's own attributes (loyalty tier, tenure), which its
text names. The offers are what the domain decides in process, and their texts say what
happened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cjo.adapters.broker import Broker
from cjo.catalogue.validate import load_files
from tests.integration.pipeline import Pipeline, reference_decisions, write_log
from tests.scenarios.default_triggers import GB, HOUR, MIN, T0, line, loc, profile

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

CATALOGUE = """\
attributes:
  - {name: loyalty_tier, values: [BRONZE, SILVER, GOLD]}
  - {name: tenure_months, type: number}
policy: {quiet_hours: null, dedupe: 1m, holdout_pct: 0, caps: [{count: 50, within: 1h}]}
triggers:
  - id: video_day
    kind: threshold
    params: {measure: usage_bytes, above: 2GB, period: day, where: {app_category: VIDEO}}
    offers:
      - code: VIDEO_PASS
        channels: [sms]
        templates: {en: "$value of video today, the last on $app_id."}
  - id: big_sessions
    kind: count
    params:
      match:
        event: usage
        where: {bytes_downlink: {gte: 500000000}, app_category: {not_in: [WEB]}}
      count: 2
      within: 1h
    offers:
      - code: BIG_SESSIONS
        channels: [sms]
        templates: {en: "$count big sessions in $window."}
  - id: back_home
    kind: transition
    params: {attribute: network, from: foreign, to: home}
    offers:
      - code: BACK_HOME
        channels: [sms]
        templates: {en: "Back from $previous_country? Welcome to $country."}
  - id: loyal_traveller
    kind: transition
    eligibility: {where: {loyalty_tier: [GOLD, SILVER], tenure_months: {gte: 12}}}
    params: {attribute: network, from: home, to: foreign}
    offers:
      - code: LOYAL_PASS
        channels: [sms]
        templates: {en: "$loyalty_tier for $tenure_months months: a free day in $country."}
"""


def member(n: int, tier: str, tenure: int) -> dict[str, Any]:
    first = profile(n)
    first["value"]["attributes"] = {"loyalty_tier": tier, "tenure_months": str(tenure)}
    return first


def use(n: int, at: int, down: int, category: str = "VIDEO", app: str = "youtube",
        serving: str | None = None) -> dict[str, Any]:
    return line("usage", n, {"event_id": f"u-{n}-{at}", "event_time": at, "app_id": app,
                             "app_category": category, "bytes_uplink": 0,
                             "bytes_downlink": down, "duration_ms": 60_000, "dropped": False,
                             "serving_plmn": serving})


def journeys() -> list[dict[str, Any]]:
    # 3 (GOLD, 26 months) and 4 (BRONZE) travel: only 3 is a loyal traveller
    lines = [profile(1), profile(2), member(3, "GOLD", 26), member(4, "BRONZE", 40)]
    # 1: 0.8 + 0.3 (web, not counted) + 0.9 + 0.4 GB of video: the third video session crosses
    # 2 GB; two of them are big (>= 0.5 GB, not web) within the hour
    lines += [use(1, T0, 800_000_000), use(1, T0 + MIN, 300_000_000, category="WEB"),
              use(1, T0 + 2 * MIN, 900_000_000, app="netflix"),
              use(1, T0 + 3 * MIN, 400_000_000, app="netflix")]
    # 2: big web sessions only (not_in: WEB), and 1.9 GB of video: nothing
    lines += [use(2, T0 + k * MIN, GB, category="WEB") for k in range(3)]
    lines += [use(2, T0 + 10 * MIN, 1_900_000_000)]
    # 3: a trip to Spain, then Italy, then home
    lines += [loc(3, T0, "21401"), loc(3, T0 + HOUR, "22210"), loc(3, T0 + 2 * HOUR)]
    lines += [loc(4, T0 + 3 * MIN), loc(4, T0 + 4 * MIN, "21401")]
    return lines


def test_usage_thresholds_where_conditions_and_previous_country_through_a_worker(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    catalogue = tmp_path / "conditions.yaml"
    catalogue.write_text(CATALOGUE)
    log = write_log(tmp_path / "journeys.jsonl", journeys())
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=2,
                        catalogue=str(catalogue))
    summary = pipeline.run(log, timeout_s=180)
    told = sorted((o["imsi"][-1], o["trigger_id"], o["message"]) for o in summary.offers)
    assert told == [
        ("1", "big_sessions", "2 big sessions in 1h."),
        ("1", "video_day", "2.1 GB of video today, the last on netflix."),
        ("3", "back_home", "Back from Italy? Welcome to the United Kingdom."),
        ("3", "loyal_traveller", "GOLD for 26 months: a free day in Spain."),
    ]
    [bronze] = [d for d in summary.decisions
                if d["imsi"].endswith("4") and d["trigger_id"] == "loyal_traveller"]
    assert (bronze["outcome"], bronze["reasons"]) == ("SUPPRESSED", ["ineligible:loyalty_tier"])
    reference = reference_decisions(log, load_files([catalogue]))
    assert sorted(d["decision_id"] for d in summary.decisions) == sorted(
        d["decision_id"] for d in reference)
