"""A worker killed with SIGKILL mid-stream loses no state and offers nothing twice."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cjo.adapters.broker import Broker
from tests.integration.pipeline import (
    Pipeline,
    StagedReplay,
    cut_log,
    reference_decisions,
    simulated_log,
)

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Log:
    """The simulated log both variants replay, in chunks (``cut_log``), and its oracle."""

    path: Path
    chunks: list[Path]
    expected: list[dict[str, Any]]


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory: pytest.TempPathFactory) -> Log:
    where = tmp_path_factory.mktemp("sim")
    path = simulated_log(where / "crash.jsonl", subscribers=60, days=3, seed=11)
    return Log(path, cut_log(path, where, 12), reference_decisions(path))


def wait_until(predicate, timeout_s: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.parametrize("lose_local_state", [False, True], ids=["keep-rocksdb", "wipe-rocksdb"])
def test_sigkill_mid_replay_then_restart(broker: Broker, unique_prefix: str,
                                         tmp_path: Path, sim_log: Log,
                                         lose_local_state: bool) -> None:
    expected = sim_log.expected
    expected_offers = {d["offer_id"] for d in expected if d["outcome"] == "SENT"}
    assert len(expected_offers) >= 5, "the simulated log must hold several trips"
    total = sum(1 for _ in sim_log.path.open("rb"))

    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    try:
        first = pipeline.start_worker("first")
        # three days of events paced over about 40 s, so the kill lands in the middle of the
        # replay; the rest (no worker reads it until the restart) at full speed
        replaying = StagedReplay(pipeline, sim_log.chunks, speed=3 * 86_400 / 40)
        replaying.start()
        # kill it hard once it has processed (and committed) a good part, but not all, of the log
        wait_until(lambda: pipeline.consumed() >= total // 4)
        first.kill()
        killed_at = time.monotonic()
        consumed_at_kill = pipeline.consumed()
        assert replaying.is_alive(), "the replay finished before the worker could be killed"
        assert consumed_at_kill < total - 100
        replaying.finish(120)
        if lose_local_state:
            shutil.rmtree(pipeline.settings.data_dir)
        # let the group forget the dead member first: the embedded broker keeps the generation
        # number across that rebalance, which faust's recovery does not survive (closing notes)
        time.sleep(max(0.0, killed_at + pipeline.settings.session_timeout_s + 1
                       - time.monotonic()))

        pipeline.start_worker("second")
        pipeline.wait(timeout_s=240)
    finally:
        pipeline.stop()  # a failed wait must not leave a worker running

    on_channels = pipeline.offer_ids_on_channels()
    # nothing lost, nothing extra: a re-send after the crash carries the same id
    assert set(on_channels) == expected_offers
    resent = {oid: n for oid, n in Counter(on_channels).items() if n > 1}
    assert len(resent) <= len(expected_offers)  # a re-send is a duplicate id, never a new one
    # state survived: every decision, sent or suppressed, is one the domain would make, and the
    # consent read from profiles before the kill still governs channels after it
    summary = pipeline.collect()
    expected_decisions = {(d["offer_id"], d["outcome"], d.get("channel")) for d in expected}
    assert {(d["offer_id"], d["outcome"], d.get("channel"))
            for d in summary.decisions} == expected_decisions
