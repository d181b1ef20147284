"""The bench's pure parts: the event set it produces and the table it prints (no timings)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench.events import (
    DAY_MS,
    DAY_OPEN_MS,
    DAY_SPAN_MS,
    HOME_PLMN,
    START_MS,
    EventSet,
    event_times,
    generate,
)
from bench.live import Latency
from bench.profile import summarise
from bench.report import BASELINE, CEILING, Results, Row, markdown, table
from bench.restore import restore_seconds
from cjo import codec


@pytest.fixture(scope="module")
def small() -> EventSet:
    return generate(subscribers=2_000, events=20_000, days=2, seed=7)


def test_profiles_first_one_per_subscriber(small: EventSet) -> None:
    events = small.all()
    assert [e.stream for e in events[:2_000]] == ["subscribers"] * 2_000
    assert len({e.key for e in events[:2_000]}) == 2_000
    assert all(e.stream != "subscribers" for e in events[2_000:])


def test_mix_is_about_50_35_15(small: EventSet) -> None:
    counts = Counter(e.stream for e in small.events)
    total = sum(counts.values())
    assert total == 20_000
    assert counts["location"] / total == pytest.approx(0.50, abs=0.02)
    assert counts["charging"] / total == pytest.approx(0.35, abs=0.02)
    assert counts["usage"] / total == pytest.approx(0.15, abs=0.02)


def test_records_are_valid_and_complete(small: EventSet) -> None:
    for event in [*small.profiles[:200], *small.events[:2_000]]:
        name, record = codec.decode(event.value)
        assert codec.normalise(name, record) == record
        assert event.key == record["imsi"].encode()


def test_event_times_increase_in_daytime(small: EventSet) -> None:
    times = [e.event_time for e in small.events]
    assert times == sorted(times)
    for t in times:
        in_day = (t - START_MS) % DAY_MS
        assert DAY_OPEN_MS <= in_day < DAY_OPEN_MS + DAY_SPAN_MS
    assert (times[-1] - START_MS) // DAY_MS == 1  # two days


def test_event_times_spread_evenly() -> None:
    assert event_times(4, 1) == [START_MS + DAY_OPEN_MS + i * DAY_SPAN_MS // 4 for i in range(4)]


def test_some_subscribers_roam(small: EventSet) -> None:
    serving = {codec.decode(e.value)[1]["serving_plmn"]
               for e in small.events if e.stream == "location"}
    assert HOME_PLMN in serving and len(serving) > 1
    assert small.travellers > 0


def test_deterministic() -> None:
    one, two = generate(300, 1_000, seed=3), generate(300, 1_000, seed=3)
    assert [e.value for e in one.all()] == [e.value for e in two.all()]


def _results() -> Results:
    results = Results(setup={"subscribers": 100_000})
    results.add(Row(CEILING, "ceiling", 50_000.0, "events/s", 400_000, 8.0, compare=True))
    results.add(Row(BASELINE, "baseline", 2_500.0, "events/s", 400_000, 160.0, compare=True))
    results.add(Row("cjo_1", "cjo, 1", 5_000.0, "events/s", 400_000, 80.0, compare=True))
    results.add(Row("cjo_n", "cjo, 2", None, "events/s", note="FAILED: no progress"))
    results.add(Row("latency_p99", "latency p99", 123.4, "ms"))
    return results


def test_ratios_to_baseline_and_ceiling() -> None:
    results = _results()
    results.compute_ratios()
    row = results.rows[2]
    assert row.vs_baseline == pytest.approx(2.0)
    assert row.vs_ceiling == pytest.approx(0.1)
    assert results.rows[3].vs_baseline is None
    assert results.rows[4].vs_baseline is None  # not a throughput


def test_table_and_markdown() -> None:
    text = table(_results())
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["#", "stage", "value"]
    assert "2.00x" in lines[4] and "0.10x" in lines[4]
    assert "FAILED: no progress" in lines[5]
    assert "123.4" in lines[6]
    md = markdown(_results()).splitlines()
    assert md[0].startswith("| # | stage") and len(md) == 2 + 5


def test_json(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    _results().write_json(path)
    data = json.loads(path.read_text())
    assert data["setup"] == {"subscribers": 100_000}
    assert data["rows"][2]["vs_baseline"] == pytest.approx(2.0)


def test_restore_seconds_from_faust_log() -> None:
    log = ("[2026-11-30 19:25:07,248] [1] [INFO] [^---Recovery]: Restoring state from "
           "changelog topics... \n[2026-11-30 19:25:08,201] [1] [INFO] [^---Recovery]: Done "
           "reading from changelog topics \n")
    assert restore_seconds(log, fast=False) == pytest.approx(0.953)
    assert restore_seconds(log.splitlines()[0], fast=False) is None
    assert restore_seconds(log, fast=True) is None


def test_restore_seconds_from_cjo_s_reader() -> None:
    line = ('{"partitions": 4, "records": 303, "seconds": 0.758, "records_per_s": 400, '
            '"complete": true, "event": "state_restored", "level": "info"}\n')
    assert restore_seconds("[^Worker]: Starting...\n" + line, fast=True) == pytest.approx(0.758)
    assert restore_seconds(line, fast=False) is None


def test_profile_summary_of_collapsed_stacks() -> None:
    site = "/v/lib/python3.11/site-packages"
    collapsed = (f"<module> (<frozen runpy>:1);handle (/w/streams/processor.py:10);"
                 f"decode (/w/cjo/codec/wire.py:5) 30\n"
                 f"<module> (<frozen runpy>:1);handle (/w/streams/processor.py:10) 10\n"
                 f"poll ({site}/aiokafka/consumer.py:3) 60\n"
                 f"junk line\n")
    profile = summarise(collapsed)
    assert profile.samples == 100
    top = {name: (inc, leaf) for name, inc, leaf in profile.top()}
    assert top == {"handle (streams/processor.py)": (40.0, 10.0),
                   "decode (codec/wire.py)": (30.0, 30.0)}
    assert profile.top_leaves(1) == [("poll (aiokafka/consumer.py)", 60.0)]


def test_rows_print_in_the_issue_order() -> None:
    results = Results()
    for key in ("rss", "cjo_n", "latency_p50", CEILING, "cjo_1", "extra", BASELINE):
        results.add(Row(key, key, 1.0, "events/s"))
    assert [r.key for r in results.ordered()] == [
        CEILING, BASELINE, "cjo_1", "cjo_n", "latency_p50", "rss", "extra"]
    assert [line.split()[1] for line in table(results).splitlines()[2:]] == [
        r.key for r in results.ordered()]


def test_latency_windows() -> None:
    series = [(1_000, 100), (2_000, 300), (12_500, 50), (31_000, 900)]
    lat = Latency(1.0, 4, 30.0, 5, sorted(d for _, d in series), series)
    windows = lat.windows(10.0)
    assert [(w["from_s"], w["offers"], w["max"]) for w in windows] == [
        (0.0, 2, 300), (10.0, 1, 50), (30.0, 1, 900)]
    assert lat.p(50) is not None
    assert Latency(1.0, 0, 1.0, 0, []).p(99) is None
