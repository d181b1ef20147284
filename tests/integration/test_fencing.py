"""A worker frozen (SIGSTOP) past the session timeout, then resumed, on Apache Kafka: the group
has moved on without it, its late commit is refused, it notices, drops what it held, rejoins,
and the decisions at the end are exactly the in-process oracle's.

What the resumed worker can still publish before it learns it was expelled is measured here and
described in docs/reliability.md ("On Apache Kafka", "Fencing"): its ``offer`` log lines between
the resume and its ``partitions_revoked`` line, every one carrying an offer id the oracle decided
(a duplicate of the new owner's, never a new offer).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from cjo.adapters.broker import Broker
from cjo.adapters.worker_process import WorkerProcess
from cjo.engine.offline import read_log
from tests.integration.pipeline import (
    Pipeline,
    group_settled,
    latest_assignment,
    log_size,
    reference_decisions,
    simulated_log,
)

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

PARTITIONS = 4
SESSION_S = 6.0  # Kafka's minimum (group.min.session.timeout.ms)
REPLAY_S = 45.0


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_log(tmp_path_factory.mktemp("fencing") / "fencing.jsonl",
                         subscribers=120, days=2, seed=23)


def wait_for(what: str, predicate: Callable[[], Any], timeout_s: float,
             pipeline: Pipeline) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:.0f}s\n{pipeline.member_logs()}")
        time.sleep(0.2)
    return found


def events_since(worker: WorkerProcess, since: int) -> list[dict[str, Any]]:
    """The worker's JSON log lines after byte ``since``."""
    with worker.log_path.open("rb") as log:
        log.seek(since)
        lines = log.read().splitlines()
    found = []
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found


def test_a_worker_paused_past_its_session_is_fenced_and_rejoins(
        broker: Broker, unique_prefix: str, tmp_path: Path, sim_log: Path) -> None:
    expected = reference_decisions(sim_log, partitions=PARTITIONS)
    expected_decisions = {(d["offer_id"], d["outcome"], d.get("channel")) for d in expected}
    expected_offers = {d["offer_id"] for d in expected if d["outcome"] == "SENT"}
    assert len(expected_offers) >= 20
    total = len(read_log(sim_log)[0])
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=PARTITIONS,
                        session_timeout_s=SESSION_S)
    inputs = list(pipeline.topics.inputs().values())
    zombie = pipeline.start_member("zombie")
    other = pipeline.start_member("other")
    try:
        wait_for("the two workers share the partitions",
                 lambda: group_settled({zombie: 0, other: 0}, inputs, PARTITIONS), 120, pipeline)
        replaying = threading.Thread(
            target=pipeline.replay, args=(sim_log, 2 * 86_400 / REPLAY_S), daemon=True)
        replaying.start()
        wait_for("a quarter of the log committed",
                 lambda: pipeline.consumed() >= total // 4, 120, pipeline)
        held = {p for _, p in latest_assignment(zombie, 0, inputs) or ()}
        other_mark = log_size(other)
        zombie.pause()
        # the group moves on: the other worker owns every partition and commits past the
        # offsets the paused one had committed
        at_pause = pipeline.committed()
        wait_for("the other worker takes every partition", lambda: len(
            latest_assignment(other, other_mark, inputs) or ()) == len(inputs) * PARTITIONS,
            6 * SESSION_S, pipeline)
        wait_for("the group commits past the pause", lambda: any(
            pipeline.committed()[tp] > at_pause.get(tp, -1) for tp in at_pause), 60, pipeline)
        resume_mark = log_size(zombie)
        other_mark = log_size(other)
        zombie.resume()
        wait_for("the resumed worker rejoins and the two share the partitions again",
                 lambda: group_settled({zombie: resume_mark, other: other_mark}, inputs,
                                       PARTITIONS), 6 * SESSION_S, pipeline)
        replaying.join(180)
        pipeline.wait_group(timeout_s=240)
        assert zombie.alive and other.alive, pipeline.member_logs()
    finally:
        zombie.resume()  # a paused process ignores SIGTERM until it runs again
        pipeline.stop()

    after = events_since(zombie, resume_mark)
    events = [str(e.get("event")) for e in after]
    # the broker refused its late commit (aiokafka's line; cjo's ``commit_refused`` when the
    # commit timer, not the revocation, is the first to meet it), and it dropped what it held
    # for every partition it had, then joined again (group_settled above)
    assert any("UnknownMemberIdError" in e or e == "commit_refused" for e in events), (
        pipeline.member_logs(80))
    revoked_at = events.index("partitions_revoked")
    # every partition it held (the revocation may name more: the tick topic's partitions)
    assert held <= set(after[revoked_at]["partitions"]), after[revoked_at]
    # what it published before it knew: offers with the ids the oracle decided, duplicates of
    # the new owner's (reported, since how many depends on where the pause caught it)
    late = [e["offer_id"] for e in after[:revoked_at] if e.get("event") == "offer"]
    print(f"offers the resumed worker published before it learned it was expelled: {len(late)}"
          f" {late}")
    assert set(late) <= expected_offers
    on_channels = pipeline.offer_ids_on_channels()
    assert set(on_channels) == expected_offers
    twice = {oid: n for oid, n in Counter(on_channels).items() if n > 1}
    print(f"offer ids on the channels more than once: {len(twice)}")
    summary = pipeline.collect()
    assert {(d["offer_id"], d["outcome"], d.get("channel"))
            for d in summary.decisions} == expected_decisions
