"""Workers join and leave a running group mid-stream: each rebalance completes within a few
session timeouts, and the offers and decisions at the end are exactly the in-process oracle's.

Three scenarios on six partitions, replayed paced so the change lands mid-stream: one of three
workers SIGKILLed, a third worker started beside two, one of three sent SIGTERM (it must exit at
once). The embedded broker does not fence a member that lost its partitions (its late commit is
accepted), so nothing here leans on fencing: the end state is compared with the oracle.
Each scenario runs twice: a pass that depends on luck should show up as a failure.

Seen here (embedded broker, two cores): the group settles 10-13 s after a SIGKILL (the session
timeout, then the broker holds the join for half of it), 6-10 s after a worker asks to join, and
12-14 s after a SIGTERM although the worker exits within 2-4 s: a member still in its first
generation never sends LeaveGroup (the embedded broker numbers the first generation 0, and
aiokafka leaves only when the generation is > 0), so the group waits for its session timeout.
On a mismatch the failure lists each differing decision in full, with when the engine ingested it
relative to the change: one decided before the change is not the rebalance's doing.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cjo.adapters.broker import Broker
from cjo.adapters.worker_process import WorkerProcess
from cjo.engine.offline import read_log
from sim import simulate, write_log
from tests.integration.pipeline import Pipeline, group_settled, log_size, reference_decisions

pytestmark = pytest.mark.integration

PARTITIONS = 6
SESSION_S = 6.0
REPLAY_S = 35.0  # the whole log arrives over this long
DAYS = 2
REBALANCE_LIMIT_S = 4 * SESSION_S
WHAT = ("{offer_id} {outcome} {channel} {reasons} imsi {imsi} {trigger_id} {offer_code} "
        "event {trigger_event_id} at {trigger_time} score {score} model {model_version}")
JOINING = "(Re-)joining group"  # aiokafka, as a consumer sends its JoinGroup
Decision = tuple[str, str, str | None]


@dataclass(frozen=True)
class Oracle:
    log: Path
    records: int
    sent: frozenset[str]
    decisions: frozenset[Decision]
    whole: list[dict[str, Any]]  # the oracle's decisions, every field


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Oracle:
    log = tmp_path_factory.mktemp("scale") / "scale.jsonl"
    with log.open("w") as out:
        write_log(simulate(subscribers=300, days=DAYS, seed=7), out)
    # the oracle spreads subscribers with crc32, the pipeline with murmur2: decisions do not
    # depend on the spread (test_determinism); budgets are shared per partition, so check here
    # that this log never reaches one (the same decisions on one partition and on six)
    expected = reference_decisions(log, partitions=PARTITIONS)
    decisions = frozenset((d["offer_id"], d["outcome"], d.get("channel")) for d in expected)
    assert decisions == {(d["offer_id"], d["outcome"], d.get("channel"))
                         for d in reference_decisions(log, partitions=1)}
    sent = frozenset(d["offer_id"] for d in expected if d["outcome"] == "SENT")
    assert len(sent) >= 100, "the log must hold enough offers for the comparison to mean much"
    return Oracle(log, len(read_log(log)[0]), sent, decisions, expected)


def wait_for(what: str, predicate: Callable[[], Any], timeout_s: float,
             pipeline: Pipeline) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` if it never
    does, with every worker's log tail."""
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:.0f}s\n{pipeline.member_logs()}")
        time.sleep(0.25)
    return value


class Group:
    """The workers of one test and what their logs say about the group."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.inputs = list(pipeline.topics.inputs().values())
        self.live: list[WorkerProcess] = []

    def start(self, name: str) -> WorkerProcess:
        worker = self.pipeline.start_member(name)
        self.live.append(worker)
        return worker

    def marks(self) -> dict[WorkerProcess, int]:
        return {w: log_size(w) for w in self.live}

    def wait_settled(self, what: str, since: dict[WorkerProcess, int], started: float,
                     timeout_s: float) -> tuple[float, dict[WorkerProcess, set[Any]]]:
        """Seconds from ``started`` until every live worker was assigned (and resumed) after
        its log offset in ``since`` with the input partitions shared out whole between them;
        and the assignments."""
        got = wait_for(what, lambda: group_settled(
            {w: since.get(w, 0) for w in self.live}, self.inputs, PARTITIONS),
            timeout_s - (time.monotonic() - started), self.pipeline)
        return time.monotonic() - started, got


def partitions_of(assignment: set[tuple[str, int]]) -> set[int]:
    return {p for _, p in assignment}


def progress(committed: dict[tuple[str, int], int]) -> dict[int, int]:
    """Records committed per partition number, over the input topics."""
    per: dict[int, int] = defaultdict(int)
    for (_, p), offset in committed.items():
        per[p] += max(offset, 0)
    return per


def resumed(pipeline: Pipeline, parts: set[int], before: dict[int, int],
            replaying: threading.Thread) -> bool:
    """Every one of ``parts`` committed past where it stood, or (replay done) to its end."""
    now = pipeline.committed()
    per = progress(now)
    done = not replaying.is_alive() and all(
        now.get(tp, -1) >= end for tp, end in pipeline.end_offsets.items() if tp[1] in parts)
    return done or all(per[p] > before[p] for p in parts)


class CommitWatch(threading.Thread):
    """Samples the group's committed offsets; notes every one that went backwards (a late
    commit from a member that had lost the partition: the embedded broker does not fence it)."""

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(daemon=True)
        self.pipeline = pipeline
        self.backwards: list[tuple[str, int, int, int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        last: dict[tuple[str, int], int] = {}
        while not self.halt.wait(0.5):
            try:
                now = self.pipeline.committed()
            except Exception:  # a sample lost is no matter: the test goes on
                continue
            for tp, offset in now.items():
                if offset < last.get(tp, -1):
                    self.backwards.append((*tp, last[tp], offset))
                last[tp] = max(offset, last.get(tp, -1))


def replay_until_mid_stream(pipeline: Pipeline, oracle: Oracle) -> threading.Thread:
    replaying = pipeline.replay_in_background(oracle.log, speed=DAYS * 86_400 / REPLAY_S)
    # some, not all, of the log processed and committed
    wait_for("a quarter of the log committed", lambda: pipeline.consumed() >= oracle.records // 4,
             REPLAY_S + 60, pipeline)
    assert replaying.is_alive(), "the replay ended before the change: it is not mid-stream"
    assert pipeline.consumed() < oracle.records * 3 // 4
    return replaying


def finish_and_compare(pipeline: Pipeline, oracle: Oracle, replaying: threading.Thread,
                       change_at_ms: int) -> None:
    replaying.join(REPLAY_S + 60)
    assert not replaying.is_alive(), "the replay did not end"
    assert sum(pipeline.end_offsets.values()) == oracle.records, "the replay lost records"
    pipeline.wait_group(timeout_s=120)
    on_channels = pipeline.offer_ids_on_channels()
    records = pipeline.collect().decisions
    decisions = [(d["offer_id"], d["outcome"], d.get("channel")) for d in records]
    resent = sum(n - 1 for n in Counter(on_channels).values())
    repeated = len(decisions) - len(set(decisions))
    print(f"offers {len(on_channels)} ({len(set(on_channels))} ids, {resent} re-sent), "
          f"decisions {len(decisions)} ({repeated} repeated)")
    differ = differences(records, oracle, change_at_ms)
    # nothing lost, nothing extra: a re-send carries the same id (at-least-once)
    missing, extra = oracle.sent - set(on_channels), set(on_channels) - oracle.sent
    assert not missing and not extra, f"offers missing {sorted(missing)[:5]} ({len(missing)}), " \
        f"not the oracle's {sorted(extra)[:5]} ({len(extra)})\n{differ}"
    assert not differ, differ
    assert set(decisions) == oracle.decisions
    # re-sends only for what was in flight at the change: a few, never a replay of the log
    assert resent <= len(oracle.sent) // 10, f"{resent} offers re-sent"
    assert repeated <= len(oracle.decisions) // 10, f"{repeated} decisions repeated"


def differences(records: list[dict[str, Any]], oracle: Oracle, change_at_ms: int) -> str:
    """Every offer whose decisions differ from the oracle's, each decision in full; for the
    engine's, when it was ingested relative to the change (before it: not the rebalance's doing)."""
    got: dict[str, set[Decision]] = defaultdict(set)
    for d in records:
        got[d["offer_id"]].add((d["offer_id"], d["outcome"], d.get("channel")))
    want: dict[str, set[Decision]] = defaultdict(set)
    for d in oracle.decisions:
        want[d[0]].add(d)
    differ = {o for o in got.keys() | want.keys() if got[o] != want[o]}
    if not differ:
        return ""
    lines = [f"{len(differ)} offers decided otherwise than the oracle:"]
    for where, ds in (("engine", records), ("oracle", oracle.whole)):
        for d in ds:
            if d["offer_id"] in differ:
                when = (f", ingested {(d['ingested_at'] - change_at_ms) / 1000:+.1f}s from the "
                        "change" if where == "engine" else "")
                lines.append(f"  {where}: {WHAT.format_map(defaultdict(lambda: None, d))}{when}")
    return "\n".join(lines)


@pytest.mark.parametrize("run", range(2))
@pytest.mark.parametrize("change", ["sigkill", "join", "sigterm"])
def test_a_rebalance_mid_stream(broker: Broker, unique_prefix: str, tmp_path: Path,
                                oracle: Oracle, change: str, run: int) -> None:
    """sigkill: one of three killed; join: a third started beside two; sigterm: one of three
    stopped (it must exit within seconds)."""
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=PARTITIONS,
                        session_timeout_s=SESSION_S)
    group = Group(pipeline)
    watch = CommitWatch(pipeline)
    try:
        for name in ["a", "b"] if change == "join" else ["a", "b", "c"]:
            group.start(name)
        # start-up (imports, topics, control topics) and the join, bounded generously
        _, assigned = group.wait_settled(f"{len(group.live)} workers sharing the partitions",
                                         {}, time.monotonic(), 120.0)
        watch.start()
        replaying = replay_until_mid_stream(pipeline, oracle)
        marks, t0, change_at_ms = group.marks(), time.monotonic(), int(time.time() * 1000)
        if change == "join":
            joining = group.start("c")
            # from its join request on: its start-up (imports, control topics) is not the group's
            wait_for("the new worker asking to join", lambda: JOINING in joining.log_path.read_text(
                errors="replace"), 90.0, pipeline)
            t0, change_at_ms = time.monotonic(), int(time.time() * 1000)
        else:
            leaving = group.live.pop(1)
            moved = partitions_of(assigned[leaving])
            if change == "sigkill":
                leaving.kill()
            else:
                leaving.terminate()
                code = leaving.wait_exit(15.0)
                assert code is not None, f"still running 15 s after SIGTERM:\n" \
                    f"{leaving.log_tail()}"
                assert code == 0, f"exit status {code} after SIGTERM:\n{leaving.log_tail()}"
                print(f"exited {time.monotonic() - t0:.1f}s after SIGTERM")
            before = progress(pipeline.committed())  # it is gone: its partitions stand still
        took, after = group.wait_settled(f"the group settled after the {change}", marks, t0,
                                         2 * REBALANCE_LIMIT_S)
        if change == "join":  # the new worker's partitions: committed by it from here on
            moved, before = partitions_of(after[group.live[-1]]), progress(pipeline.committed())
        wait_for(f"partitions {sorted(moved)} committing again after the {change}",
                 lambda: resumed(pipeline, moved, before, replaying),
                 t0 + 2 * REBALANCE_LIMIT_S - time.monotonic(), pipeline)
        resumed_s = time.monotonic() - t0
        print(f"{change}: group settled after {took:.1f}s, moved partitions {sorted(moved)} "
              f"committing after {resumed_s:.1f}s; assignments "
              f"{[sorted(partitions_of(a)) for a in after.values()]}")
        assert took <= REBALANCE_LIMIT_S, f"the rebalance took {took:.1f}s"
        assert resumed_s <= REBALANCE_LIMIT_S + 2, f"moved partitions idle {resumed_s:.1f}s"
        finish_and_compare(pipeline, oracle, replaying, change_at_ms)
        assert all(w.alive for w in group.live), "a worker died"
    finally:
        watch.halt.set()
        pipeline.stop()
    print(f"committed offsets that went backwards: {watch.backwards}")
