"""Replaying a recorded log into the embedded broker: topics, keys, times, dead letters, pace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import murmur2

from cjo.adapters.broker import Broker
from cjo.adapters.kafka_admin import create_topics, end_offsets, read_all
from cjo.adapters.replay import ReplaySummary, replay, run_replay
from cjo.codec import decode, parse_log_line
from cjo.settings import Topics
from cjo.stream_registry import STREAMS

pytestmark = pytest.mark.integration

T0 = 1767261600000
PARTITIONS = 4
IMSIS = [f"2341500000000{n:02d}" for n in range(1, 7)]


def _value(stream: str, imsi: str, at: int, n: int) -> dict[str, Any]:
    event = {"event_id": f"e{n}", "event_time": at, "imsi": imsi}
    if stream == "charging":
        return {**event, "session_id": "s1", "request_type": "UPDATE", "home_plmn": "23415",
                "serving_plmn": "23415", "used_total_octets": 1000 * n}
    if stream == "location":
        return {**event, "event_type": "ATTACH", "home_plmn": "23415", "serving_plmn": "310260"}
    if stream == "usage":
        return {**event, "app_id": "video.app", "app_category": "VIDEO", "bytes_uplink": n,
                "bytes_downlink": 10 * n, "duration_ms": 500}
    if stream == "responses":
        return {**event, "offer_id": f"o{n}", "channel": "SMS", "status": "DELIVERED"}
    return {"imsi": imsi, "msisdn": "447700900001", "payment_type": "PREPAID", "plan_id": "p1",
            "language": "en", "timezone": "Europe/London", "home_plmn": "23415",
            "updated_at": at, "consent": {"sms": True}}


def _line(stream: str, imsi: str, at: int, n: int) -> str:
    return json.dumps({"topic": stream, "key": imsi, "value": _value(stream, imsi, at, n)})


BAD_LINES = {
    "not json": '{"topic": "location", "value": {',
    "unknown stream": json.dumps({"topic": "billing", "key": IMSIS[0], "value": {}}),
    "bad field": _line("usage", IMSIS[0], T0, 99).replace(f'"event_time": {T0}',
                                                          '"event_time": "yesterday"'),
}


def _write_log(path: Path) -> list[str]:
    good = [_line(stream, imsi, T0 + 10 * n, n)
            for n, (imsi, stream) in enumerate((i, s) for i in IMSIS for s in STREAMS)]
    lines = [*good[:3], "", BAD_LINES["not json"], BAD_LINES["unknown stream"],
             BAD_LINES["bad field"], *good[3:]]
    path.write_text("\n".join(lines) + "\n")
    return lines


@pytest.fixture
def replayed(
    broker: Broker, unique_prefix: str, tmp_path: Path
) -> tuple[Topics, list[str], ReplaySummary]:
    topics = Topics(unique_prefix, {})
    create_topics(broker.bootstrap, [*topics.inputs().values(), topics["dlq"]], PARTITIONS)
    path = tmp_path / "small.jsonl"
    lines = _write_log(path)
    return topics, lines, replay(path, broker.bootstrap, topics, progress=False)


def test_records_land_decoded_keyed_and_stamped(
    broker: Broker, replayed: tuple[Topics, list[str], ReplaySummary]
) -> None:
    topics, lines, _ = replayed
    records = read_all(broker.bootstrap, topics.inputs().values())
    expected = {rec.value.get("event_id", rec.value["imsi"]): rec
                for rec in (parse_log_line(line) for line in lines
                            if line and line not in BAD_LINES.values())}
    assert len(records) == len(expected) == len(IMSIS) * len(STREAMS)
    for record in records:
        name, value = decode(record.value or b"")
        source = expected[value.get("event_id", value["imsi"])]
        assert record.topic == topics.inputs()[source.stream]
        assert (name, value) == (source.record_name, source.value)
        assert record.key == source.key
        assert record.timestamp_ms == source.event_time


def test_input_topics_are_co_partitioned_by_imsi(
    broker: Broker, replayed: tuple[Topics, list[str], ReplaySummary]
) -> None:
    topics, _, _ = replayed
    partitions: dict[bytes, set[int]] = {}
    for record in read_all(broker.bootstrap, topics.inputs().values()):
        assert record.key is not None
        partitions.setdefault(record.key, set()).add(record.partition)
    assert len(partitions) == len(IMSIS)
    for key, seen in partitions.items():
        assert seen == {murmur2(key, PARTITIONS)}, "the Java / aiokafka partition of the key"


def test_each_bad_line_becomes_one_dead_letter(
    broker: Broker, replayed: tuple[Topics, list[str], ReplaySummary]
) -> None:
    topics, lines, summary = replayed
    letters = [decode(r.value or b"", "DeadLetter")[1]
               for r in read_all(broker.bootstrap, [topics["dlq"]])]
    by_line = {letter["source_offset"]: letter for letter in letters}
    assert len(letters) == len(by_line) == 3
    for what, fields in (("not json", "not JSON"), ("unknown stream", "topic: "),
                         ("bad field", "value.event_time: ")):
        number = lines.index(BAD_LINES[what]) + 1
        letter = by_line[number]
        assert letter["payload"] == BAD_LINES[what].encode()
        assert letter["error"].startswith(fields), letter["error"]
        assert letter["source_topic"] == f"replay:{summary.path.name}"
        assert (letter["source_partition"], letter["key"]) == (-1, None)


def test_summary_counts_and_end_offsets(
    broker: Broker, replayed: tuple[Topics, list[str], ReplaySummary]
) -> None:
    topics, lines, summary = replayed
    assert summary.lines_read == len(lines)
    assert summary.produced == {stream: len(IMSIS) for stream in STREAMS}
    assert (summary.bad_lines, summary.dead_lettered) == (3, 3)
    assert [number for number, _ in summary.errors] == [5, 6, 7]
    assert summary.events_per_s > 0
    actual = end_offsets(broker.bootstrap, [*topics.inputs().values(), topics["dlq"]])
    assert summary.end_offsets == {tp: end for tp, end in actual.items() if end}
    text = summary.render()
    assert "30 events" in text and "bad lines: 3" in text and "line 7: value.event_time" in text


def test_no_dead_letters_when_dlq_is_off(
    broker: Broker, unique_prefix: str, tmp_path: Path
) -> None:
    topics = Topics(unique_prefix, {})
    create_topics(broker.bootstrap, [topics["dlq"]], 1)
    path = tmp_path / "bad.jsonl"
    path.write_text("nonsense\n")
    summary = replay(path, broker.bootstrap, topics, progress=False, dlq=False)
    assert (summary.bad_lines, summary.dead_lettered, summary.end_offsets) == (1, 0, {})
    assert end_offsets(broker.bootstrap, [topics["dlq"]]) == {(topics["dlq"], 0): 0}


def test_speed_paces_by_event_time(
    broker: Broker, unique_prefix: str, tmp_path: Path
) -> None:
    topics = Topics(unique_prefix, {})
    create_topics(broker.bootstrap, topics.inputs().values(), 1)
    path = tmp_path / "two-seconds.jsonl"
    path.write_text("".join(_line("location", IMSIS[0], T0 + ms, n) + "\n"
                            for n, ms in enumerate((0, 500, 1000, 2000))))
    started = time.monotonic()
    summary = replay(path, broker.bootstrap, topics, speed=1, progress=False)
    assert time.monotonic() - started >= 1.8
    assert summary.produced == {"location": 4}
    started = time.monotonic()
    replay(path, broker.bootstrap, topics, speed=None, progress=False)
    assert time.monotonic() - started < 1.5


def test_run_replay_creates_topics_and_prints_the_summary(
    broker: Broker, unique_prefix: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topics = Topics(unique_prefix, {})
    path = tmp_path / "cli.jsonl"
    _write_log(path)
    assert run_replay(path, broker.bootstrap, topics, None, partitions=2) == 0
    out, err = capsys.readouterr()
    assert out.startswith("replayed cli.jsonl: 34 lines, 30 events")
    assert "cli.jsonl" in err  # the progress bar
    ends = end_offsets(broker.bootstrap, [*topics.inputs().values(), topics["dlq"]])
    assert len(ends) == 12
    assert sum(ends.values()) == 33


def test_run_replay_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.jsonl"
    assert run_replay(missing, "127.0.0.1:1", Topics("x", {}), None, partitions=1) == 2
    assert capsys.readouterr().err == f"cjo: no such recorded log: {missing}\n"


def test_sigterm_stops_a_replay_between_lines_and_says_what_it_produced(
    broker: Broker, unique_prefix: str, tmp_path: Path
) -> None:
    topics = Topics(unique_prefix, {})
    create_topics(broker.bootstrap, topics.inputs().values(), 1)
    path = tmp_path / "a-minute.jsonl"  # at --speed 1 a line every 10 s after the first two
    path.write_text("".join(_line("location", IMSIS[0], T0 + ms, n) + "\n"
                            for n, ms in enumerate((0, 100, *range(10_000, 60_000, 10_000)))))
    env = {**os.environ, "CJO_BROKER": broker.bootstrap, "CJO_TOPIC_PREFIX": unique_prefix,
           "CJO_PARTITIONS": "1"}
    cjo = subprocess.Popen([sys.executable, "-m", "cjo", "replay", str(path), "--speed", "1"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while sum(end_offsets(broker.bootstrap, [topics["location"]]).values()) < 2:
            assert cjo.poll() is None and time.monotonic() < deadline, cjo.communicate()
            time.sleep(0.2)
        cjo.terminate()
        out, err = cjo.communicate(timeout=60)
    finally:
        cjo.kill()
    assert cjo.returncode == 143, err
    assert out.startswith("stopped by SIGTERM: replayed the first a-minute.jsonl: 2 lines, "
                          "2 events"), out
    assert "the rest, from line 3, was not replayed" in out
    assert sum(end_offsets(broker.bootstrap, [topics["location"]]).values()) == 2
