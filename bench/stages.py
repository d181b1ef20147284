"""The broker stages: ceiling, naive baseline, cjo with one and with N worker processes.

All read the same input topics (produced once) on one broker (Apache Kafka, or the embedded one:
:mod:`bench.brokers`); each stage has its own consumer group (its app id) and its own output, tick
and control topics, so none sees another's offers, ticks or state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.children import Child, Timing, cjo_worker, disk_bytes, time_commits
from bench.naive_agent import naive_env
from bench.profile import Profile, Sampler
from cjo import codec
from cjo.adapters.broker import free_port
from cjo.adapters.kafka_admin import Partition, read_all
from cjo.adapters.worker_process import worker_env
from cjo.settings import load
from cjo.stream_registry import CHANNELS, OUTPUTS, STREAMS


@dataclass
class Broker:
    """The shared run: broker address, partitions, where children write, the inputs' prefix;
    ``workarounds``: the broker is the embedded one (CJO_EMBEDDED_BROKER_WORKAROUNDS)."""

    bootstrap: str
    partitions: int
    tmp: Path
    prefix: str = "bench"
    workarounds: bool = True
    broker_pid: int | None = None  # the broker's process here, to read its CPU time

    def inputs(self, prefix: str | None = None) -> dict[str, str]:
        return dict(load(topic_prefix=prefix or self.prefix).topics.inputs())


@dataclass
class CjoRun:
    timing: Timing
    data_dirs: list[Path]
    app_id: str
    env: dict[str, str] = field(default_factory=dict)
    profile: Profile | None = None

    @property
    def disk(self) -> int:
        return sum(disk_bytes(d) for d in self.data_dirs if d.exists())


def stage_env(run: Broker, stage: str, data_dir: Path, prefix: str | None = None,
              log_level: str = "INFO") -> dict[str, str]:
    """A cjo worker's environment for ``stage``: inputs under ``prefix``, the rest its own."""
    prefix = prefix or run.prefix
    settings = load(broker=run.bootstrap, partitions=run.partitions, app_id=f"cjo-bench-{stage}",
                    time_mode="replay", data_dir=data_dir, topic_prefix=prefix,
                    embedded_broker_workarounds=run.workarounds)
    env = worker_env(settings, log_level)
    # the topics a worker writes or reads besides the inputs: one set per stage
    env.update({f"CJO_TOPIC_{name.upper()}": f"{prefix}-{stage}.{name}" for name in OUTPUTS})
    env["CJO_WEB_PORT"] = "0"
    return env


def offer_topics(stage: str, prefix: str) -> list[str]:
    return [f"{prefix}-{stage}.{c}" for c in CHANNELS]


def run_naive(run: Broker, ends: Mapping[Partition, int], budget_s: float) -> Timing:
    app_id = "cjo-bench-naive"
    env = naive_env(run.bootstrap, app_id, list(run.inputs().values()), run.partitions,
                    run.tmp / "naive", free_port())
    child = Child(["-m", "bench.naive_agent"], env, run.tmp / "naive.log").start()
    try:
        return time_commits(run.bootstrap, app_id, ends, [child], budget_s)
    finally:
        child.stop()


def run_cjo(run: Broker, stage: str, processes: int, ends: Mapping[Partition, int],
            budget_s: float, profile: bool = False) -> CjoRun:
    """``processes`` cjo workers in one group over the inputs, timed to the last commit."""
    dirs = [run.tmp / stage / f"w{i}" for i in range(processes)]
    env = stage_env(run, stage, dirs[0])
    children = [cjo_worker({**env, "CJO_DATA_DIR": str(d)}, run.tmp / f"{stage}-w{i}.log")
                for i, d in enumerate(dirs)]
    for d, child in zip(dirs, children, strict=True):
        d.parent.mkdir(parents=True, exist_ok=True)
        child.start()
    samplers: list[Sampler] = []

    def sample() -> None:  # from the start mark: start-up and imports left out
        if profile and children[0].proc is not None:
            samplers.append(Sampler(children[0].proc.pid, run.tmp / f"{stage}.pyspy"))

    try:
        timing = time_commits(run.bootstrap, env["CJO_APP_ID"], ends, children, budget_s,
                              marks=[env["CJO_TOPIC_TICKS"]], on_start=sample)
    finally:
        summary = samplers[0].stop() if samplers else None
        for child in children:
            child.stop()
    return CjoRun(timing, dirs, env["CJO_APP_ID"], env, summary)


def count_offers(bootstrap: str, stage: str, prefix: str) -> dict[str, int]:
    """Offers a stage published, per trigger."""
    counts: dict[str, int] = {}
    for record in read_all(bootstrap, offer_topics(stage, prefix)):
        if record.value is not None:
            trigger = codec.decode(record.value)[1]["trigger_id"]
            counts[trigger] = counts.get(trigger, 0) + 1
    return counts


def input_ends(produced: Mapping[Partition, int], inputs: Mapping[str, str],
               streams: tuple[str, ...] = STREAMS) -> dict[Partition, int]:
    wanted = {inputs[s] for s in streams}
    return {tp: end for tp, end in produced.items() if tp[0] in wanted and end > 0}
