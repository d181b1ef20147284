"""What a newcomer sees without a broker: decisions counted per outcome and reason, every
decision with its reasons in a file, one subscriber explained (`cjo catalogue try`); a live
worker fed an old log says once how to replay it; faust's stdlib logs come out as ours;
`cjo respond` prints a sentence."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import orjson
import pytest
import structlog
from structlog.testing import capture_logs

from cjo import logs
from cjo.adapters.catalogue_commands import run_try
from cjo.catalogue.validate import DEFAULTS_DIR, default_catalogue
from cjo.engine.runner import Knowledge, MemoryStore, PartitionRunner
from cjo.stale_input import STALE_AFTER_MS, StaleInput
from cjo.state import Position
from cjo.summary import Summary, outcome_reasons, reason_key
from cjo.timers import Watermark
from sim.kafka_responder import progress_line
from tests.scenarios.default_triggers import HOUR, T0, imsi, loc, profile

BUNDLED = [DEFAULTS_DIR / "venues.yaml", DEFAULTS_DIR / "triggers.yaml"]


def _decision(outcome: str, *reasons: str, trigger: str = "t") -> dict[str, object]:
    return {"trigger_id": trigger, "outcome": outcome, "reasons": list(reasons)}


def test_outcomes_are_counted_per_reason() -> None:
    decisions = [_decision("SUPPRESSED", "no_consent"), _decision("SUPPRESSED", "no_consent"),
                 _decision("SUPPRESSED", "frequency_cap:2/24h"),
                 _decision("EXPIRED", "quiet_hours", "late:7h>1h"),
                 _decision("EXPIRED", "quiet_hours", "late:9h>1h"),
                 _decision("SENT", "channel:sms")]
    lines = outcome_reasons(decisions)
    assert lines[0] == "decisions by outcome and reason:"
    assert [line.split()[:2] for line in lines[1:]] == [["EXPIRED", "2"], ["SENT", "1"],
                                                        ["SUPPRESSED", "3"]]
    assert lines[1].endswith("late>1h 2, quiet_hours 2")
    assert lines[3].endswith("no_consent 2, frequency_cap:2/24h 1")
    assert reason_key("late:263d>30m") == "late>30m"
    summary = Summary(events={}, dead_letters=0, offers=[], decisions=decisions)
    assert "\n".join(lines[1:]) in summary.render()  # the demo's summary shows them too


def _roamers(path: Path) -> Path:
    lines = [x for n in (1, 2) for x in (profile(n), loc(n, T0), loc(n, T0 + HOUR, "20801"))]
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def test_try_writes_every_decision_with_reasons_and_explains_one(tmp_path: Path) -> None:
    out = io.StringIO()
    decisions = tmp_path / "decisions.jsonl"
    assert run_try(BUNDLED, _roamers(tmp_path / "log.jsonl"), out=out, decisions=decisions,
                   explain_imsi=imsi(2)) == 0
    text = out.getvalue()
    rows = [json.loads(line) for line in decisions.read_text().splitlines()]
    assert sorted((r["imsi"], r["trigger_id"]) for r in rows) == [
        (imsi(1), "roaming_welcome"), (imsi(2), "roaming_welcome")]
    assert all(r["reasons"] for r in rows)
    assert f"wrote 2 decisions (with their reasons) to {decisions}" in text
    assert "decisions by outcome and reason:" in text
    assert f"IMSI {imsi(2)}: 1 decision " in text  # cjo explain's rendering
    assert f"  reasons      {', '.join(rows[1]['reasons'])}" in text


def test_try_explain_checks_the_imsi_first(tmp_path: Path) -> None:
    from cjo.errors import ConfigError

    with pytest.raises(ConfigError, match="IMSI must be 5 to 15 digits"):
        run_try(BUNDLED, tmp_path / "never-read.jsonl", explain_imsi="abc")


def test_stale_input_is_said_once_and_only_in_live_mode() -> None:
    stale = StaleInput()
    now = T0 + 263 * 24 * HOUR
    with capture_logs() as seen:
        assert not stale.observe(T0, now, live=False)  # replay mode: old is normal
        assert not stale.observe(now - STALE_AFTER_MS, now, live=True)  # not hours behind
        assert stale.observe(T0, now, live=True)
        assert not stale.observe(T0, now, live=True)  # once
    assert len(seen) == 1
    assert seen[0]["event"] == "input_hours_behind_wall_clock"
    assert seen[0]["behind"] == "263d" and "CJO_TIME_MODE=replay" in seen[0]["hint"]


def test_a_live_runner_reports_records_far_behind_the_wall_clock(
        monkeypatch: pytest.MonkeyPatch) -> None:
    stale = StaleInput()
    monkeypatch.setattr("cjo.engine.runner.STALE_INPUT", stale)
    knowledge = Knowledge(default_catalogue())
    record = loc(1, T0)
    replay = PartitionRunner(MemoryStore(), 0, Watermark(30_000, 15_000, live=False))
    replay.on_record("location", record["value"], Position("l", 0), T0 + 30 * 24 * HOUR, knowledge)
    assert not stale.warned
    live = PartitionRunner(MemoryStore(), 0, Watermark(30_000, 15_000, live=True))
    live.on_record("location", record["value"], Position("l", 0), T0 + 30 * 24 * HOUR, knowledge)
    assert stale.warned


def test_stdlib_logs_come_out_as_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = (root.handlers[:], root.level)
    config = structlog.get_config()
    try:
        logs.configure("INFO", "json")
        logging.getLogger("faust.worker").warning("Starting %s", "worker")
        logging.getLogger("aiokafka").debug("not shown at INFO")
        err = capsys.readouterr().err
    finally:  # the process-wide logging set back: the captured stderr closes with this test
        root.handlers[:], root.level = before[0], before[1]
        structlog.configure(**config)
    lines = [json.loads(line) for line in err.splitlines()]
    assert len(lines) == 1
    assert lines[0]["event"] == "Starting worker"
    assert (lines[0]["level"], lines[0]["logger"]) == ("warning", "faust.worker")
    assert "timestamp" in lines[0]


def test_respond_prints_a_sentence() -> None:
    assert progress_line(3, {"ACCEPTED": 2, "NONE": 1}) == (
        "answered 3 new offers; so far 2 accepted, 0 declined, 1 without an answer")


def test_the_bench_reads_the_time_of_a_json_worker_line() -> None:
    """faust's lines are JSON now: the benchmark's start-up clock reads both forms."""
    from datetime import UTC, datetime

    from bench.children import log_time

    line = '{"event": "[^Worker]: Ready", "timestamp": "2026-11-30T19:25:07.248000Z"}'
    assert log_time(line) == datetime(2026, 11, 30, 19, 25, 7, 248000, UTC).timestamp()
