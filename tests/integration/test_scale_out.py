"""Workers join and leave a running group mid-stream: each rebalance completes within a few
session timeouts, and the offers and decisions at the end are exactly the in-process oracle's.

Three scenarios on six partitions, one per kind of change, on the session's broker (Apache
Kafka): a third worker started beside two, one of three SIGKILLed, one of three sent SIGTERM (it
must exit at once). They share the broker, the simulated log and the oracle's decisions (module
fixtures); each has its own topics and group. The log is replayed paced, in chunks, so the change
lands mid-stream; once the moved partitions commit again the remaining chunks go at full speed
(in replay mode decisions depend on event time only, not on the pace).

What the broker saw is checked in its own log: after a SIGTERM the member left the group with a
LeaveGroup request, so the group rebalances at once; after a SIGKILL it was removed when its
session timed out. The seconds each change took to settle are printed at the end of the module
(docs/reliability.md, "Scale-out on Apache Kafka"); they are figures, not assertions.
On a mismatch the failure lists each differing decision in full, with when the engine ingested it
relative to the change: one decided before the change is not the rebalance's doing.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cjo.adapters.broker import Broker
from cjo.adapters.worker_process import WorkerProcess
from cjo.engine.offline import read_log
from sim import simulate, write_log
from tests.integration.pipeline import (
    Pipeline,
    StagedReplay,
    cut_log,
    group_settled,
    log_size,
    reference_decisions,
)

pytestmark = pytest.mark.integration

PARTITIONS = 6
SESSION_S = 6.0
REPLAY_S = 35.0  # the whole log would arrive over this long, paced
CHUNKS = 14  # the log's pieces: the pace can be dropped between two
DAYS = 2
REBALANCE_LIMIT_S = 4 * SESSION_S
WHAT = ("{offer_id} {outcome} {channel} {reasons} imsi {imsi} {trigger_id} {offer_code} "
        "event {trigger_event_id} at {trigger_time} score {score} model {model_version}")
JOINING = "(Re-)joining group"  # aiokafka, as a consumer sends its JoinGroup
# Apache Kafka's group coordinator (4.x), in its server.log, for a classic group
LEFT = "has left group through explicit `LeaveGroup` request"
EXPIRED = "has failed, removing it from the group"
PREPARING = "Preparing to rebalance group"
STABILIZED = "Stabilized group"
Decision = tuple[str, str, str | None]


@dataclass(frozen=True)
class Oracle:
    log: Path
    chunks: list[Path]  # the log's lines in order, cut in CHUNKS pieces
    records: int
    sent: frozenset[str]
    decisions: frozenset[Decision]
    whole: list[dict[str, Any]]  # the oracle's decisions, every field


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Oracle:
    where = tmp_path_factory.mktemp("scale")
    log = where / "scale.jsonl"
    with log.open("w") as out:
        write_log(simulate(subscribers=300, days=DAYS, seed=7), out)
    # the oracle spreads subscribers over the partitions as the workers do (murmur2), so budgets
    # shared per partition are spent alike
    expected = reference_decisions(log, partitions=PARTITIONS)
    decisions = frozenset((d["offer_id"], d["outcome"], d.get("channel")) for d in expected)
    sent = frozenset(d["offer_id"] for d in expected if d["outcome"] == "SENT")
    assert len(sent) >= 100, "the log must hold enough offers for the comparison to mean much"
    return Oracle(log, cut_log(log, where, CHUNKS), len(read_log(log)[0]), sent, decisions,
                  expected)


@dataclass
class Settle:
    """Seconds from a change to: the leaving worker's exit (SIGTERM); the coordinator preparing
    the rebalance, then the group stabilized (Apache Kafka's log); every worker assigned and
    resumed again (the workers' logs); the moved partitions committing again."""

    exited: float | None
    prepared: float | None
    stabilized: float | None
    settled: float
    resumed: float


@pytest.fixture(scope="module")
def settle_figures() -> Iterator[dict[str, Settle]]:
    figures: dict[str, Settle] = {}
    yield figures
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    rows = [f"  {change:8} {seconds(s.exited):>6} {seconds(s.prepared):>8} "
            f"{seconds(s.stabilized):>10} {seconds(s.settled):>7} {seconds(s.resumed):>7}"
            for change, s in figures.items()]
    print("\nseconds from the change (the signal, or the join request) to:\n"
          "  change   exited rebalance stabilized settled resumed\n" + "\n".join(rows))


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
    commit from a member that had lost the partition, which Apache Kafka fences)."""

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


def replay_until_mid_stream(pipeline: Pipeline, oracle: Oracle) -> StagedReplay:
    replaying = StagedReplay(pipeline, oracle.chunks, DAYS * 86_400 / REPLAY_S)
    replaying.start()
    # some, not all, of the log processed and committed
    wait_for("a quarter of the log committed", lambda: pipeline.consumed() >= oracle.records // 4,
             REPLAY_S + 60, pipeline)
    assert replaying.is_alive(), "the replay ended before the change: it is not mid-stream"
    assert pipeline.consumed() < oracle.records * 3 // 4
    return replaying


def finish_and_compare(pipeline: Pipeline, oracle: Oracle, replaying: StagedReplay,
                       change_at_ms: int, phase: Callable[[str], None]) -> None:
    replaying.finish(REPLAY_S + 60)
    assert sum(pipeline.end_offsets.values()) == oracle.records, "the replay lost records"
    phase("replay done")
    pipeline.wait_group(timeout_s=120)
    phase("all consumed")
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
    phase("compared")


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


def broker_log(broker: Broker) -> Path | None:
    """Apache Kafka's server.log (None: not Apache Kafka)."""
    log_dir = getattr(broker, "log_dir", None)
    return None if log_dir is None else Path(log_dir) / "server.log"


def coordinator_lines(log: Path, since: int, group: str) -> list[str]:
    """What the group coordinator logged about ``group`` after byte ``since`` of the log."""
    with log.open("rb") as text:
        text.seek(since)
        return [line for line in text.read().decode(errors="replace").splitlines()
                if group in line]


def logged_at(line: str) -> float:
    """The wall time (epoch seconds) of a broker log line ``[2026-01-01 10:00:00,123] ...``."""
    return datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def check_how_it_went(change: str, said: list[str], change_at: float) -> tuple[float, float]:
    """SIGTERM: the member sent LeaveGroup; SIGKILL: its session expired; join: neither.
    Returns the seconds from the change to the coordinator preparing the rebalance, and to the
    group stabilized."""
    left, expired = any(LEFT in s for s in said), any(EXPIRED in s for s in said)
    wanted = {"sigterm": (True, False), "sigkill": (False, True), "join": (False, False)}
    what = "the coordinator's lines on the group:\n" + "\n".join(said)
    assert (left, expired) == wanted[change], f"{change}: left {left}, expired {expired}; {what}"
    prepared = next((logged_at(s) for s in said if PREPARING in s), None)
    stable = next((logged_at(s) for s in said if STABILIZED in s), None)
    assert prepared is not None and stable is not None, what
    return prepared - change_at, stable - change_at


@pytest.mark.parametrize("change", ["join", "sigkill", "sigterm"])
def test_a_rebalance_mid_stream(broker: Broker, unique_prefix: str, tmp_path: Path,
                                oracle: Oracle, settle_figures: dict[str, Settle],
                                change: str) -> None:
    """join: a third started beside two; sigkill: one of three killed; sigterm: one of three
    stopped (it must exit within seconds)."""
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=PARTITIONS,
                        session_timeout_s=SESSION_S)
    group = Group(pipeline)
    watch = CommitWatch(pipeline)
    exited: float | None = None
    began = time.monotonic()
    phase = lambda what: print(f"  [{time.monotonic() - began:6.1f}s] {what}")  # noqa: E731
    try:
        for name in ["a", "b"] if change == "join" else ["a", "b", "c"]:
            group.start(name)
        # start-up (imports, topics, control topics) and the join, bounded generously
        _, assigned = group.wait_settled(f"{len(group.live)} workers sharing the partitions",
                                         {}, time.monotonic(), 120.0)
        watch.start()
        phase("group formed")
        replaying = replay_until_mid_stream(pipeline, oracle)
        phase("a quarter consumed")
        marks, t0, change_at_ms = group.marks(), time.monotonic(), int(time.time() * 1000)
        kafka_log = broker_log(broker)
        kafka_mark = kafka_log.stat().st_size if kafka_log else 0
        if change == "join":
            # the replay holds at its next chunk while the new worker starts (imports, control
            # topics: 10-30 s, longer than what is left of the replay on a loaded machine) and
            # goes on as it asks to join: the group changes while records flow
            replaying.go.clear()
            joining = group.start("c")
            wait_for("the new worker asking to join", lambda: JOINING in joining.log_path.read_text(
                errors="replace"), 90.0, pipeline)
            replaying.go.set()
            assert replaying.is_alive(), "the replay ended before the join: not mid-stream"
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
                exited = time.monotonic() - t0
            before = progress(pipeline.committed())  # it is gone: its partitions stand still
        took, after = group.wait_settled(f"the group settled after the {change}", marks, t0,
                                         2 * REBALANCE_LIMIT_S)
        if change == "join":  # the new worker's partitions: committed by it from here on
            moved, before = partitions_of(after[group.live[-1]]), progress(pipeline.committed())
        wait_for(f"partitions {sorted(moved)} committing again after the {change}",
                 lambda: resumed(pipeline, moved, before, replaying),
                 t0 + 2 * REBALANCE_LIMIT_S - time.monotonic(), pipeline)
        resumed_s = time.monotonic() - t0
        broker_saw = (None, None)
        if kafka_log is not None:  # Apache Kafka: how the member went, in the coordinator's words
            broker_saw = check_how_it_went(change, coordinator_lines(
                kafka_log, kafka_mark, pipeline.settings.app_id), change_at_ms / 1000)
        settle_figures[change] = Settle(exited, *broker_saw, took, resumed_s)
        print(f"{change}: replay paced for {REPLAY_S:.0f}s, group settled after {took:.1f}s, "
              f"moved partitions {sorted(moved)} committing after {resumed_s:.1f}s; "
              f"assignments {[sorted(partitions_of(a)) for a in after.values()]}")
        assert took <= REBALANCE_LIMIT_S, f"the rebalance took {took:.1f}s"
        assert resumed_s <= REBALANCE_LIMIT_S + 2, f"moved partitions idle {resumed_s:.1f}s"
        phase("resumed")
        finish_and_compare(pipeline, oracle, replaying, change_at_ms, phase)
        assert all(w.alive for w in group.live), "a worker died"
    finally:
        watch.halt.set()
        pipeline.stop()
        phase("stopped")
    print(f"committed offsets that went backwards: {watch.backwards}")
    if kafka_log is not None:  # a stale member's late commit is fenced: offsets never go back
        assert not watch.backwards, watch.backwards
