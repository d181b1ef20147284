"""A worker killed with SIGKILL mid-stream loses no state and offers nothing twice."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from tests.integration.pipeline import Pipeline, reference_decisions, simulated_log

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_log(tmp_path_factory.mktemp("sim") / "crash.jsonl",
                         subscribers=60, days=3, seed=11)


def wait_until(predicate, timeout_s: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.parametrize("lose_local_state", [False, True], ids=["keep-rocksdb", "wipe-rocksdb"])
def test_sigkill_mid_replay_then_restart(broker: Broker, unique_prefix: str,
                                         tmp_path: Path, sim_log: Path,
                                         lose_local_state: bool) -> None:
    expected = reference_decisions(sim_log)
    expected_offers = {d["offer_id"] for d in expected if d["outcome"] == "SENT"}
    assert len(expected_offers) >= 5, "the simulated log must hold several trips"
    total = sum(1 for _ in sim_log.open("rb"))

    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    try:
        first = pipeline.start_worker("first")
        # three days of events arrive over about 40 s, so the kill lands in the middle of the replay
        replaying = pipeline.replay_in_background(sim_log, speed=3 * 86_400 / 40)
        # kill it hard once it has processed (and committed) a good part, but not all, of the log
        wait_until(lambda: pipeline.consumed() >= total // 4)
        first.kill()
        consumed_at_kill = pipeline.consumed()
        assert replaying.is_alive(), "the replay finished before the worker could be killed"
        assert consumed_at_kill < total - 100
        replaying.join(120)
        if lose_local_state:
            shutil.rmtree(pipeline.settings.data_dir)
        # let the group forget the dead member first: the embedded broker keeps the generation
        # number across that rebalance, which faust's recovery does not survive (closing notes)
        time.sleep(pipeline.settings.session_timeout_s + 1)

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
