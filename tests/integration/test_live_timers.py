"""Live mode on wall time: a trial that expires with nothing else happening on its partition is
acted on within 60 seconds of expiry, and a moment that reaches the engine hours late expires."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from cjo.clock import WallClock
from tests.integration.pipeline import Pipeline, write_log
from tests.scenarios.default_triggers import HOUR, loc, profile, trial

pytestmark = pytest.mark.integration

BOUND_MS = 60_000  # the bound: expiry to decision, on wall time


def midday_zone(now_ms: int) -> str:
    """An IANA zone whose local time is about 12:00 at ``now_ms`` (Etc/GMT signs are inverted)."""
    offset = (12 - now_ms // 3_600_000 % 24 + 12) % 24 - 12  # -12..11 hours from UTC
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def test_a_trial_expiring_in_silence_fires_within_60_seconds(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=2,
                        time_mode="live")
    clock = WallClock()
    try:
        pipeline.start_worker()
        now = clock.now_ms()
        expires = now + 20_000
        lines = [profile(1, now, trials=[trial("video_plus_7d", expires)]),
                 profile(2, now - 4 * HOUR), loc(2, now - 3 * HOUR - 60_000),
                 loc(2, now - 3 * HOUR, "20801")]  # landed abroad 3 h ago, reported now
        for line in lines[:2]:  # a zone where it is midday now: quiet hours never interfere
            line["value"]["timezone"] = midday_zone(now)
        pipeline.replay(write_log(tmp_path / "live.jsonl", lines))
        deadline = time.monotonic() + 120
        while True:
            decisions = {d["trigger_id"]: d for d in pipeline.collect().decisions}
            if "trial_expiry_promo" in decisions or time.monotonic() > deadline:
                break
            time.sleep(1)
    finally:
        pipeline.stop()
    promo = decisions["trial_expiry_promo"]
    assert promo["outcome"] == "SENT" and promo["trigger_time"] == expires
    lag = promo["published_at"] - expires
    print(f"trial expiry acted on {lag} ms after expiry (bound {BOUND_MS} ms)")
    assert 0 <= lag <= BOUND_MS
    late = decisions["roaming_welcome"]
    assert late["outcome"] == "EXPIRED" and late["reasons"][0].startswith("late:3h")
