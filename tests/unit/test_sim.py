"""The simulator: deterministic, schema-valid, ordered, realistic, with real bad lines."""

from __future__ import annotations

import io
import json
import math
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastavro import parse_schema
from fastavro.validation import validate

from cjo.errors import ConfigError
from sim import DEFAULT_START_MS, SimSummary, simulate, write_log

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "cjo" / "samples" / "sample.jsonl"
RECORDS = {
    "charging": "ChargingEvent",
    "location": "LocationEvent",
    "usage": "UsageEvent",
    "subscribers": "SubscriberProfile",
    "responses": "OfferResponse",
}
DAY = 86_400_000
RANGES = {"charging": (20, 100), "location": (30, 150), "usage": (20, 100)}


@dataclass
class Log:
    raw: list[str]  # every line as written
    good: list[dict[str, Any]]  # the lines that are records
    bad: list[str]
    summary: SimSummary


def render(
    subscribers: int, days: int, seed: int, bad_lines: int | None = None
) -> tuple[str, SimSummary]:
    out = io.StringIO()
    summary = write_log(simulate(subscribers, days, seed, bad_lines=bad_lines), out)
    return out.getvalue(), summary


def load(text: str, summary: SimSummary) -> Log:
    raw = text.splitlines()
    good, bad = [], []
    for line in raw:
        if why_bad(line) is None:
            good.append(orjson.loads(line))
        else:
            bad.append(line)
    return Log(raw, good, bad, summary)


@pytest.fixture(scope="module")
def log() -> Log:
    return load(*render(150, 4, 11))


def _schemas() -> dict[str, tuple[dict[str, Any], Any]]:
    out = {}
    for topic, name in RECORDS.items():
        schema = json.loads((ROOT / "schemas" / f"{name}.avsc").read_text())
        out[topic] = (schema, parse_schema(schema))
    return out


SCHEMAS = _schemas()


def _filled(value: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Omitted nullable fields are null, as docs/data-contract.md allows."""
    filled = dict(value)
    for f in schema["fields"]:
        if isinstance(f["type"], list) and "null" in f["type"]:
            filled.setdefault(f["name"], None)
    return filled


def why_bad(line: str) -> str | None:
    """Why a recorded-log line cannot be used, or None for a good one."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "not_json"
    if not isinstance(doc, dict) or doc.get("topic") not in RECORDS:
        return "unknown_topic"
    value = doc.get("value")
    if not isinstance(value, dict):
        return "no_value"
    return _value_problem(doc["topic"], doc.get("key"), value)


def _value_problem(topic: str, key: Any, value: dict[str, Any]) -> str | None:
    schema, parsed = SCHEMAS[topic]
    if not validate(_filled(value, schema), parsed, raise_errors=False):
        return "schema"
    if set(value) - {f["name"] for f in schema["fields"]}:
        return "unknown_field"
    imsi = value["imsi"]
    if not (imsi.isascii() and imsi.isdigit() and 14 <= len(imsi) <= 15) or key != imsi:
        return "imsi"
    return None


def event_time(line: dict[str, Any]) -> int:
    value = line["value"]
    return int(value["updated_at"] if line["topic"] == "subscribers" else value["event_time"])


def test_same_seed_gives_the_same_bytes_another_seed_other_bytes() -> None:
    first, _ = render(30, 2, 5)
    again, _ = render(30, 2, 5)
    other, _ = render(30, 2, 6)
    assert first == again
    assert first != other


def test_a_subscriber_does_not_depend_on_how_many_others_there_are() -> None:
    def lines_of_first(subscribers: int) -> list[str]:
        text, _ = render(subscribers, 2, 5, bad_lines=0)
        return [line for line in text.splitlines() if '"key":"234150000000001"' in line]

    assert lines_of_first(3) == lines_of_first(12)


def test_every_good_line_fits_its_schema_and_ids_are_unique(log: Log) -> None:
    assert len(log.good) > 40_000
    for line in log.good:
        assert set(line) == {"topic", "key", "value"}
    ids = [line["value"]["event_id"] for line in log.good if "event_id" in line["value"]]
    assert len(ids) == len(set(ids))
    assert Counter(line["topic"] for line in log.good)["responses"] == 0


def test_write_log_counts_what_it_wrote(log: Log) -> None:
    counts = Counter(line["topic"] for line in log.good)
    assert {k: v for k, v in log.summary.per_stream.items() if v} == dict(counts)
    assert log.summary.bad == len(log.bad)
    assert log.summary.lines == len(log.raw)
    assert log.summary.bytes_written == sum(len(line) + 1 for line in log.raw)


def test_lines_are_in_event_time_order_within_a_minute(log: Log) -> None:
    latest, worst = 0, 0
    for line in log.good:
        t = event_time(line)
        worst, latest = max(worst, latest - t), max(latest, t)
    assert 0 < worst <= 60_000  # some disorder, as collection delays make it
    assert event_time(log.good[0]) == DEFAULT_START_MS


def test_requested_bad_lines_are_there_and_each_is_really_bad() -> None:
    lines = list(simulate(40, 2, 3, bad_lines=7))
    raws = [line["raw"] for line in lines if "raw" in line]
    assert len(raws) == 7
    reasons = [why_bad(raw) for raw in raws]
    assert None not in reasons
    assert set(reasons) == {"not_json", "unknown_topic", "schema", "imsi"}
    first = next(i for i, line in enumerate(lines) if "raw" in line)
    assert first > len(lines) // 20  # spread through the log, not bunched at one end
    assert not [line for line in simulate(5, 1, 3, bad_lines=0) if "raw" in line]


def test_default_bad_lines_about_one_in_two_thousand(log: Log) -> None:
    assert len(log.raw) // 2000 - 1 <= len(log.bad) <= len(log.raw) // 2000 + 3
    text, summary = render(1, 3, 2)
    assert summary.lines >= 300
    assert summary.bad >= 3
    assert sum(why_bad(line) is not None for line in text.splitlines()) == summary.bad


def test_per_subscriber_day_volumes_are_in_range(log: Log) -> None:
    counts: Counter[tuple[str, str, int]] = Counter()
    for line in log.good:
        if line["topic"] in RANGES:
            counts[line["topic"], line["key"], (event_time(line) - DEFAULT_START_MS) // DAY] += 1
    for topic, (low, high) in RANGES.items():
        per_day = [n for (t, _, _), n in counts.items() if t == topic]
        assert len(per_day) == 150 * 4
        assert low <= min(per_day) and max(per_day) <= high, topic
        assert statistics.mean(per_day) < (low + high) / 2  # the middle-low end


def _trips(log: Log) -> tuple[int, list[tuple[str, int, int, str]]]:
    """Trips started, and completed ones as (imsi, foreign ATTACH time, home ATTACH time, plmn)."""
    profiles = [line for line in log.good if line["topic"] == "subscribers"]
    home = {line["key"]: line["value"]["home_plmn"] for line in profiles}
    moves = defaultdict(list)
    for line in log.good:
        if line["topic"] == "location":
            v = line["value"]
            moves[line["key"]].append((v["event_time"], v["serving_plmn"], v["event_type"]))
    started, done = 0, []
    for imsi, events in moves.items():
        events.sort()
        away_since: tuple[int, str] | None = None
        for t, plmn, kind in events:
            abroad = plmn[:3] != home[imsi][:3]
            if abroad and away_since is None:
                assert kind == "ATTACH"
                started, away_since = started + 1, (t, plmn)
            elif not abroad and away_since is not None:
                assert kind == "ATTACH"
                done.append((imsi, away_since[0], t, away_since[1]))
                away_since = None
    return started, done


def test_trips_abroad_go_home_foreign_home(log: Log) -> None:
    started, done = _trips(log)
    assert 12 <= started <= 40  # about 15% of 150 subscribers
    assert len(done) >= 8
    assert len({plmn for *_, plmn in done}) >= 4
    windows = {imsi: (a, b) for imsi, a, b, _ in done}
    seen = 0
    for line in log.good:
        if line["topic"] in ("usage", "charging") and line["key"] in windows:
            a, b = windows[line["key"]]
            if a <= line["value"]["event_time"] < b:
                assert line["value"]["serving_plmn"][:3] != line["key"][:3]
                seen += 1
    assert seen > 100


def test_profiles_look_like_a_uk_operators_base(log: Log) -> None:
    firsts: dict[str, dict[str, Any]] = {}
    updates = []
    for line in log.good:
        if line["topic"] == "subscribers":
            if line["key"] in firsts:
                updates.append(line["value"])
            firsts.setdefault(line["key"], line["value"])
    profiles = list(firsts.values())
    assert len(profiles) == 150

    def share(test: Callable[[dict[str, Any]], bool]) -> float:
        return sum(map(test, profiles)) / len(profiles)

    assert 0.75 <= share(lambda p: p["home_plmn"] == "23415") <= 0.95
    assert share(lambda p: p["msisdn"].startswith("447") and len(p["msisdn"]) == 12) == 1
    assert 0.55 <= share(lambda p: "email" in p) <= 0.85
    assert 0.45 <= share(lambda p: "app_user_id" in p) <= 0.75
    assert 0.03 <= share(lambda p: not any(p["consent"].values())) <= 0.2
    for channel, rate in (("push", 0.5), ("sms", 0.6), ("email", 0.4), ("location", 0.35)):
        given = sum(bool(p["consent"][channel]) for p in profiles) / len(profiles)
        assert abs(given - rate) < 0.13, channel
    assert {p["payment_type"] for p in profiles} == {"PREPAID", "POSTPAID", "HYBRID"}
    assert "A18_24" in {p.get("age_band") for p in profiles}
    assert 0.75 <= share(lambda p: p["language"] == "en") < 1
    soon = DEFAULT_START_MS // DAY + 60
    assert any(p.get("contract_end", 10**9) <= soon for p in profiles)
    assert all(p["payment_type"] != "PREPAID" or "contract_end" not in p for p in profiles)
    assert all(t["status"] == "ACTIVE" for p in profiles for t in p["trials"])
    end = DEFAULT_START_MS + 4 * DAY
    assert all(DEFAULT_START_MS < t["expires_at"] < end for p in profiles for t in p["trials"])
    outcomes = Counter(t["status"] for p in updates for t in p["trials"])
    assert outcomes["CONVERTED"] > 0 and outcomes["CANCELLED"] > 0
    assert all(p["updated_at"] > DEFAULT_START_MS for p in updates)


def test_devices_drops_bundles_and_balances_change_as_in_life(log: Log) -> None:
    tacs: dict[str, set[str]] = defaultdict(set)
    drops: dict[str, list[int]] = defaultdict(list)
    bundle: dict[str, list[tuple[int, float]]] = defaultdict(list)
    balance: dict[str, list[tuple[int, float]]] = defaultdict(list)
    usage = 0
    for line in log.good:
        v = line["value"]
        if "imeisv" in v:
            tacs[line["key"]].add(v["imeisv"][:8])
        if line["topic"] == "usage":
            usage += 1
            if v["dropped"]:
                drops[line["key"]].append(v["event_time"])
        if v.get("bundle_total_octets"):
            left = v["bundle_remaining_octets"] / v["bundle_total_octets"]
            bundle[line["key"]].append((v["event_time"], left))
        if "balance" in v:
            assert v["currency"] == "GBP" and v["balance"] >= 0
            balance[line["key"]].append((v["event_time"], v["balance"]))
    changed = sum(len(t) > 1 for t in tacs.values())
    assert 1 <= changed <= 15  # about 3%
    assert 0.01 <= sum(map(len, drops.values())) / usage <= 0.04

    def within_hour(ts: list[int], t: int) -> int:
        return sum(t <= u < t + 3_600_000 for u in ts)

    assert any(within_hour(ts, t) >= 3 for ts in drops.values() for t in ts)  # a burst
    lefts = [[x for _, x in sorted(pairs)] for pairs in bundle.values()]  # in event-time order
    assert all(a >= b for xs in lefts for a, b in pairwise(xs))
    assert any(xs[0] > 0.2 >= min(xs) for xs in lefts)  # crossing the last fifth
    money = [[x for _, x in sorted(pairs)] for pairs in balance.values()]
    assert any(b > a for xs in money for a, b in pairwise(xs))  # a top-up


def test_daily_volume_and_app_mix_are_calibrated(log: Log) -> None:
    octets: Counter[tuple[str, int]] = Counter()
    by_category: Counter[str] = Counter()
    for line in log.good:
        v = line["value"]
        if line["topic"] == "charging":
            day = (v["event_time"] - DEFAULT_START_MS) // DAY
            octets[line["key"], day] += v["used_total_octets"]
        elif line["topic"] == "usage":
            by_category[v["app_category"]] += v["bytes_uplink"] + v["bytes_downlink"]
    assert 0.45e9 <= statistics.mean(octets.values()) <= 1.0e9  # about 0.7 GB a day
    assert 0.6 <= by_category["VIDEO"] / sum(by_category.values()) <= 0.85  # about 75%


def test_lines_are_what_the_codec_reads() -> None:
    logline = pytest.importorskip("cjo.codec.logline")
    from cjo.errors import InvalidRecord

    text, summary = render(20, 1, 9, bad_lines=10)
    rejected = 0
    for line in text.splitlines():
        try:
            logline.parse_log_line(line)
        except InvalidRecord:
            rejected += 1
    assert rejected == summary.bad == 10


def test_rejects_impossible_arguments() -> None:
    with pytest.raises(ConfigError):
        simulate(-1, 2, 7)
    with pytest.raises(ConfigError):
        simulate(10, 2, 7, bad_lines=-3)


def test_bundled_sample_is_current_and_holds_what_its_readme_says() -> None:
    text, summary = render(100, 2, 7)
    assert SAMPLE.read_text() == text, "regenerate it: see cjo/samples/README.md"
    assert 10_000 <= summary.lines <= 25_000
    started, done = _trips(load(text, summary))
    assert started >= 8 and done
    readme = (SAMPLE.parent / "README.md").read_text()
    assert f"{summary.lines:,}" in readme and f"{summary.bad}" in readme


# The venues of the default catalogue, written out here (not imported from the simulator).
CIRCLES = {
    "westfield_stratford": (51.5430, -0.0065, 350.0),
    "bullring": (52.4775, -1.8936, 300.0),
    "trafford_centre": (53.4668, -2.3475, 450.0),
    "old_trafford": (53.4631, -2.2913, 300.0),
}
WEMBLEY = (51.5545, 51.5575, -0.2830, -0.2762)
MALLS = ("westfield_stratford", "bullring", "trafford_centre")
MINUTE = 60_000


def _metres(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    p0, p1 = math.radians(lat0), math.radians(lat1)
    h = math.sin((p1 - p0) / 2) ** 2 + math.cos(p0) * math.cos(p1) * math.sin(
        math.radians(lon1 - lon0) / 2
    ) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def venue_of(lat: float, lon: float) -> str | None:
    if WEMBLEY[0] <= lat <= WEMBLEY[1] and WEMBLEY[2] <= lon <= WEMBLEY[3]:
        return "wembley"
    for venue, (c_lat, c_lon, radius) in CIRCLES.items():
        if _metres(c_lat, c_lon, lat, lon) <= radius:
            return venue
    return None


@dataclass
class Stay:
    imsi: str
    venue: str
    inside: list[int]  # times of the fixes inside, in order
    before: int | None  # the fix just before, outside
    after: int | None  # the fix just after, outside


def stays(log: Log) -> list[Stay]:
    fixes: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for line in log.good:
        v = line["value"]
        if line["topic"] == "location" and v.get("lat") is not None:
            fixes[line["key"]].append((v["event_time"], v["lat"], v["lon"]))
    out: list[Stay] = []
    for imsi, points in sorted(fixes.items()):
        points.sort()
        current: Stay | None = None
        previous: int | None = None
        for when, lat, lon in points:
            venue = venue_of(lat, lon)
            if current is not None and venue == current.venue:
                current.inside.append(when)
            else:
                if current is not None:
                    current.after = when
                    out.append(current)
                current = Stay(imsi, venue, [when], previous, None) if venue else None
            previous = when
        if current is not None:
            out.append(current)
    return out


def first_profiles(log: Log) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for line in log.good:
        if line["topic"] == "subscribers":
            out.setdefault(line["key"], line["value"])
    return out


def test_venue_fixes_fall_inside_the_venue_as_planned() -> None:
    from sim.population import make_subscriber

    text, summary = render(120, 2, 11, bad_lines=0)
    reports = {
        (line["key"], line["value"]["event_time"]): line["value"]
        for line in load(text, summary).good
        if line["topic"] == "location" and line["value"]["event_type"] == "LOCATION_REPORT"
    }
    checked = 0
    for serial in range(1, 121):
        sub = make_subscriber(11, serial, DEFAULT_START_MS, 2)
        for visit in sub.visits:
            inside = visit.fixes[1:-1]
            assert len(inside) >= 5
            for when, *_ in inside:
                v = reports[sub.imsi, when]
                assert venue_of(v["lat"], v["lon"]) == visit.venue.venue_id
                assert visit.venue.contains(v["lat"], v["lon"])
                checked += 1
            for when, *_ in (visit.fixes[0], visit.fixes[-1]):
                v = reports[sub.imsi, when]
                assert venue_of(v["lat"], v["lon"]) is None
    assert checked > 50


def test_young_subscribers_visit_their_citys_mall_some_without_location_consent(log: Log) -> None:
    profiles = first_profiles(log)
    mall = [s for s in stays(log) if s.venue in MALLS]
    visitors = {s.imsi for s in mall}
    assert len(visitors) >= 5
    assert all(profiles[i].get("age_band") in ("UNDER_18", "A18_24") for i in visitors)
    consent = Counter(profiles[i]["consent"]["location"] for i in visitors)
    assert consent[True] and consent[False]
    for stay in mall:
        hours = (stay.inside[-1] - stay.inside[0]) / 3_600_000
        assert 0.7 <= hours <= 3.0
        assert all(b - a <= 10 * MINUTE for a, b in pairwise(stay.inside))
        assert 8 <= (stay.inside[0] - DEFAULT_START_MS) % DAY / 3_600_000 <= 19  # daytime


def test_match_goers_arrive_stay_and_are_seen_leaving(log: Log) -> None:
    stadium = [s for s in stays(log) if s.venue in ("wembley", "old_trafford")]
    assert len([s for s in stadium if s.venue == "wembley"]) >= 3
    for venue in ("wembley", "old_trafford"):
        days = {(s.inside[0] - DEFAULT_START_MS) // DAY for s in stadium if s.venue == venue}
        assert len(days) <= 1  # one match day
    for stay in stadium:
        assert stay.before is not None and stay.inside[0] - stay.before <= 30 * MINUTE  # arriving
        assert len(stay.inside) >= 12
        assert 2.0 <= (stay.inside[-1] - stay.inside[0]) / 3_600_000 <= 3.0
        assert all(b - a <= 10 * MINUTE for a, b in pairwise(stay.inside))  # every 5-10 min
        assert stay.after is not None and stay.after - stay.inside[-1] <= 25 * MINUTE  # left


def test_gamers_take_two_day_passes_then_play(log: Log) -> None:
    passes: dict[str, dict[tuple[str, int], int]] = defaultdict(dict)
    games: dict[str, list[int]] = defaultdict(list)
    for line in log.good:
        v = line["value"]
        if line["topic"] == "subscribers":
            for t in v["trials"]:
                if t["product_id"] == "gaming_pass_1d":
                    key = (t["product_id"], t["expires_at"])
                    passes[line["key"]].setdefault(key, v["updated_at"])
        elif line["topic"] == "usage" and v["app_category"] == "GAMING":
            games[line["key"]].append(v["event_time"])
    twice = {imsi: sorted(seen.values()) for imsi, seen in passes.items() if len(seen) >= 2}
    assert 3 <= len(twice) <= 15  # about 4% of 150
    for imsi, (first, second, *_) in twice.items():
        assert DEFAULT_START_MS == first < second <= first + 14 * DAY
        assert any(t > second for t in games[imsi])


def test_a_citys_fans_go_to_its_match_and_only_theirs() -> None:
    from sim.timeline import Place, Segment
    from sim.venues import plan_visits

    home = Place("23415", 53.5, -2.2)
    at_home = [Segment(DEFAULT_START_MS, DEFAULT_START_MS + 2 * DAY, home, False, 0)]
    went: Counter[tuple[str, str, int]] = Counter()
    for n in range(400):
        for city, age in (("Manchester", "A45_54"), ("London", "A35_44"), ("Leeds", "A18_24")):
            rng = random.Random(n)
            for visit in plan_visits(rng, city, age, at_home, DEFAULT_START_MS, 2):
                day = (visit.arrive - DEFAULT_START_MS) // DAY
                went[city, visit.venue.venue_id, day] += 1
                kick_off = visit.arrive + 60 * MINUTE - (DEFAULT_START_MS + day * DAY)
                assert 14 * 60 <= kick_off // MINUTE <= 21 * 60
    assert set(went) == {("Manchester", "old_trafford", 1), ("London", "wembley", 0)}
    assert 0.08 * 400 <= went["Manchester", "old_trafford", 1] <= 0.18 * 400  # about 13%


def test_a_log_for_a_live_worker_starts_now_and_an_offset_brings_other_subscribers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``cjo simulate`` defaults to now (nothing in it is late for a live worker); with
    ``--imsi-offset`` a second log is about other people than the first."""
    from cjo.cli import main

    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    before = int(time.time() * 1000)
    assert main(["simulate", "--subscribers", "3", "--days", "1", "--out", str(first)]) == 0
    assert main(["simulate", "--subscribers", "3", "--days", "1", "--out", str(second),
                 "--imsi-offset", "3", "--start", "2026-03-01T08:00"]) == 0
    out = capsys.readouterr().out
    assert "subscribers 1 to 3 (a next log: --imsi-offset 3)" in out
    assert "events from 2026-03-01T08:00Z to 2026-03-02T08:00Z, subscribers 4 to 6" in out

    def read(path: Path) -> tuple[set[str], list[int]]:
        lines = [json.loads(line) for line in path.read_text().splitlines()
                 if line.startswith('{"topic"')]
        times = [line["value"]["event_time"] for line in lines
                 if isinstance(line.get("value", {}).get("event_time"), int)]
        return {line["key"] for line in lines if line.get("key")}, times

    imsis, times = read(first)
    assert before - 60_000 <= min(times) and max(times) <= before + 86_400_000 + 60_000
    others, times = read(second)
    assert not imsis & others and len(others) == 3
    assert min(times) >= 1_772_352_000_000  # 2026-03-01T08:00Z
    with pytest.raises(SystemExit):
        main(["simulate", "--out", str(first), "--start", "yesterday"])
    assert "expected 'now' or a date/time" in capsys.readouterr().err
