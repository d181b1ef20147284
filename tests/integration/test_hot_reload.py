"""A new catalogue applied while a worker runs: the new trigger fires and the removed one stops,
with no restart; a refused catalogue never reaches the topic; a worker started later runs the
live catalogue, not its bundled default."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest

from cjo.adapters.broker import Broker
from cjo.adapters.catalogue_commands import run_apply, run_diff
from cjo.adapters.catalogue_topic import read_live
from cjo.adapters.control_topics import publish_dnc
from cjo.errors import CatalogueRejected
from tests.integration.pipeline import Pipeline, write_log
from tests.scenarios.default_triggers import END, HOUR, MIN, T0, imsi, loc, profile, use

pytestmark = pytest.mark.integration

VIDEO_ONLY = """\
triggers:
  - id: video_binge
    kind: count
    params: {match: {event: usage, where: {app_category: VIDEO}}, count: 2, within: 1h}
    offers:
      - code: VIDEO_PASS_1D
        channels: [sms]
        templates: {en: "Binge on: a day of video for $offer_value with $offer_code."}
"""
BROKEN = VIDEO_ONLY.replace("count: 2", "count: two")


def lands_abroad(n: int, at: int) -> list[dict[str, Any]]:
    return [profile(n, at - HOUR), loc(n, at), loc(n, at + 10 * MIN, "20801")]


def binges(n: int, at: int) -> list[dict[str, Any]]:
    return [profile(n, at - HOUR), use(n, at), use(n, at + 20 * MIN)]


def wait_for_line(path: Path, text: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{text!r} not in {path} after {timeout_s} s"
        time.sleep(0.2)


def test_apply_switches_running_workers_and_refuses_bad_catalogues(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    new = tmp_path / "video.yaml"
    new.write_text(VIDEO_ONLY)
    bad = tmp_path / "broken.yaml"
    bad.write_text(BROKEN)
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=2)
    try:
        worker = pipeline.start_worker()
        pipeline.replay(write_log(tmp_path / "1.jsonl", lands_abroad(1, T0) + binges(2, T0)))
        pipeline.wait()

        assert run_diff(pipeline.settings, [new], out=io.StringIO()) == 1
        assert run_apply(pipeline.settings, [new], out=io.StringIO(), yes=True) == 0
        live = read_live(pipeline.settings).catalogue
        assert live is not None and [t.id for t in live.triggers] == ["video_binge"]
        wait_for_line(worker.log_path, "catalogue_switched")
        with pytest.raises(CatalogueRejected) as refused:
            run_apply(pipeline.settings, [bad], out=io.StringIO(), yes=True)
        assert "broken.yaml:4" in str(refused.value) and "params.count" in str(refused.value)
        assert read_live(pipeline.settings).catalogue == live  # the one in force stays

        publish_dnc(pipeline.settings, [imsi(7)], block=True)  # a do-not-contact request
        wait_for_line(worker.log_path, "do_not_contact_updated")
        pipeline.replay(write_log(tmp_path / "2.jsonl",
                                  lands_abroad(3, T0 + 2 * HOUR) + binges(4, T0 + 2 * HOUR)
                                  + binges(7, T0 + 2 * HOUR)))
        pipeline.wait()
        assert worker.alive  # no restart

        pipeline.stop()
        later = pipeline.start_worker("later")
        pipeline.replay(write_log(tmp_path / "3.jsonl",
                                  lands_abroad(5, END) + binges(6, END)))
        pipeline.wait()
        assert later.alive
        summary = pipeline.collect()
    finally:
        pipeline.stop()
    fired = sorted((int(d["imsi"][5:]), d["trigger_id"], d["outcome"])
                   for d in summary.decisions)
    assert fired == [(1, "roaming_welcome", "SENT"), (4, "video_binge", "SENT"),
                     (6, "video_binge", "SENT"), (7, "video_binge", "SUPPRESSED")]
    blocked = next(d for d in summary.decisions if d["imsi"] == imsi(7))
    assert blocked["reasons"] == ["do_not_contact"]
