"""Static group membership (``CJO_GROUP_INSTANCE_ID``, Kafka's group.instance.id) on Apache Kafka:
a worker restarted within the session timeout takes its partitions back without a rebalance, so
the other worker's partitions do not move; with dynamic membership (the default) the same
restart rebalances the group twice (the leave, then the join).

The other worker's log is the witness: aiokafka logs every rebalance it takes part in
("(Re-)joining group", "Successfully synced group ... with generation N").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cjo.adapters.broker import Broker, free_port
from cjo.adapters.worker_process import WorkerProcess, worker_env
from tests.integration.pipeline import Pipeline, group_settled, latest_assignment, log_size

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

PARTITIONS = 4
SESSION_S = 45.0  # a restart on a loaded two-core machine takes 10-20 s
REJOINING = "(Re-)joining group"
LEADER = "Elected group leader"


def wait_for(what: str, predicate: Callable[[], Any], timeout_s: float,
             workers: list[WorkerProcess]) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := predicate()):
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {w.log_path}:\n{w.log_tail(30)}" for w in workers)
            raise AssertionError(f"{what}: not within {timeout_s:.0f}s\n{tails}")
        time.sleep(0.3)
    return found


def text_since(worker: WorkerProcess, since: int) -> str:
    with worker.log_path.open("rb") as log:
        log.seek(since)
        return log.read().decode(errors="replace")


@pytest.mark.parametrize("static", [True, False], ids=["static", "dynamic"])
def test_a_restart_within_the_session_moves_no_partition_with_static_membership(
        broker: Broker, unique_prefix: str, tmp_path: Path, static: bool) -> None:
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=PARTITIONS,
                        session_timeout_s=SESSION_S)
    inputs = list(pipeline.topics.inputs().values())

    def env(name: str, port: int) -> dict[str, str]:
        # the same web port across a restart: faust puts its URL in the member's metadata
        return {**worker_env(pipeline.settings, log_level="INFO"),
                "CJO_DATA_DIR": str(tmp_path / f"state-{name}"), "CJO_WEB_PORT": str(port),
                "CJO_GROUP_INSTANCE_ID": f"{unique_prefix}-{name}" if static else ""}

    envs = {name: env(name, free_port()) for name in ("a", "b")}
    workers = {n: WorkerProcess(e, tmp_path / f"{n}.log").start() for n, e in envs.items()}
    everyone = list(workers.values())
    try:
        wait_for("the two workers share the partitions", lambda: group_settled(
            {w: 0 for w in everyone}, inputs, PARTITIONS), 120, everyone)
        # restart the one that is not the group's leader (the other keeps its partitions)
        name, other = next((n, workers["b" if n == "a" else "a"]) for n, w in workers.items()
                           if LEADER not in w.log_path.read_text(errors="replace"))
        kept = latest_assignment(other, 0, inputs)
        mark = log_size(other)
        workers[name].stop()
        restarted = WorkerProcess(envs[name], tmp_path / f"{name}-again.log").start()
        everyone.append(restarted)
        wait_for("the restarted worker is given partitions again",
                 lambda: latest_assignment(restarted, 0, inputs), 120, everyone)
        if not static:  # the leave and the join: let the group settle before looking
            wait_for("the group settles", lambda: group_settled(
                {restarted: 0, other: mark}, inputs, PARTITIONS), 120, everyone)
        seen = text_since(other, mark)
    finally:
        for worker in everyone:
            worker.stop()

    rebalanced = REJOINING in seen or "Successfully synced group" in seen
    if static:
        assert not rebalanced, seen[-3000:]
        assert latest_assignment(other, 0, inputs) == kept
    else:
        assert rebalanced, seen[-3000:]
