"""The same log gives the same decisions whatever the partition count or the replay speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from sim import simulate, write_log
from tests.integration.pipeline import Pipeline, reference_decisions

pytestmark = pytest.mark.integration


def decisions_of(broker: Broker, prefix: str, workdir: Path, log: Path,
                 partitions: int, speed: float | None) -> set[tuple[str, str, str | None]]:
    pipeline = Pipeline(broker.bootstrap, prefix, workdir, partitions=partitions)
    summary = pipeline.run(log, speed=speed, timeout_s=240)
    return {(d["offer_id"], d["outcome"], d.get("channel")) for d in summary.decisions}


def test_one_partition_and_eight_partitions_decide_alike(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    log = tmp_path / "det.jsonl"
    with log.open("w") as out:
        write_log(simulate(subscribers=40, days=3, seed=5), out)
    oracle = {(d["offer_id"], d["outcome"], d.get("channel")) for d in reference_decisions(log)}
    assert len(oracle) >= 4

    one = decisions_of(broker, f"{unique_prefix}a", tmp_path / "one", log, 1, None)
    eight = decisions_of(broker, f"{unique_prefix}b", tmp_path / "eight", log, 8,
                         speed=3 * 86_400 / 15)
    assert one == oracle
    assert eight == oracle
