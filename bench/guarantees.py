"""What exactly-once costs: one cjo worker process at least once, then exactly once, on the same
records, on Apache Kafka (transactions; the embedded broker has none).

    python -m bench.guarantees [--subscribers N] [--events M] [--latency-seconds S]

Each guarantee has its own consumer group, output topics and changelog (``stages.stage_env``
with its own stage name); the input topics are produced once. Rows: events/s of one worker
process (first commit to the last input offset committed, as row 3 of ``make bench``), and the
latency from production to offer at a paced rate, the same rate for both (half the at-least-once
rate), on input topics of its own per guarantee. The guarantee goes to the workers through
``CJO_PROCESSING_GUARANTEE`` (``worker_env`` carries it). ``guarantee_rows`` adds the rows to a
``make bench`` run on Apache Kafka.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bench import stages
from bench.children import cjo_worker, time_commits
from bench.events import EventSet, generate
from bench.produce import produce_all, produce_paced
from bench.report import Results, Row, table
from cjo import codec
from cjo.adapters.kafka_admin import Partition, create_topics, read_all
from cjo.adapters.kafka_broker import KafkaBroker
from cjo.summary import percentile

GUARANTEES = ("at_least_once", "exactly_once")
SHORT = {"at_least_once": "alo", "exactly_once": "eos"}


@contextmanager
def guarantee(name: str) -> Iterator[None]:
    """Workers started inside get ``CJO_PROCESSING_GUARANTEE=name`` (``stage_env`` loads the
    settings from the environment)."""
    before = os.environ.get("CJO_PROCESSING_GUARANTEE")
    os.environ["CJO_PROCESSING_GUARANTEE"] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("CJO_PROCESSING_GUARANTEE", None)
        else:
            os.environ["CJO_PROCESSING_GUARANTEE"] = before


def throughput(run: stages.Broker, name: str, ends: Mapping[Partition, int],
               budget_s: float) -> float:
    with guarantee(name):
        one = stages.run_cjo(run, f"one-{SHORT[name]}", 1, ends, budget_s)
    return sum(ends.values()) / one.timing.seconds


def latencies(run: stages.Broker, name: str, events: EventSet, rate: float, seconds: float,
              budget_s: float) -> list[int]:
    """Production to offer (ms) of every offer a paced load triggers (see ``bench.live``)."""
    prefix, stage = f"benchlat{SHORT[name]}", f"lat-{SHORT[name]}"
    inputs = run.inputs(prefix)
    create_topics(run.bootstrap, inputs.values(), run.partitions)
    produced = produce_all(run.bootstrap, inputs, events.profiles)
    with guarantee(name):
        env = stages.stage_env(run, stage, run.tmp / stage, prefix=prefix)
    child = cjo_worker(env, run.tmp / f"{stage}.log").start()
    group, marks = env["CJO_APP_ID"], [env["CJO_TOPIC_TICKS"]]
    try:
        time_commits(run.bootstrap, group,
                     stages.input_ends(produced.ends, inputs, ("subscribers",)), [child],
                     budget_s, marks=marks)
        count = min(len(events.events), max(1_000, int(rate * seconds)))
        paced = produce_paced(run.bootstrap, inputs, events.events[:count], rate)
        time_commits(run.bootstrap, group,
                     stages.input_ends({**produced.ends, **paced.ends}, inputs), [child],
                     budget_s, marks=marks)
    finally:
        child.stop()
    delays = []
    for record in read_all(run.bootstrap, stages.offer_topics(stage, prefix),
                           isolation="read_committed"):
        offer = codec.decode(record.value or b"")[1]
        at = paced.produced_at.get(offer["trigger_event_id"])
        if at is not None:
            delays.append(offer["published_at"] - at)
    return sorted(delays)


def guarantee_rows(results: Results, run: stages.Broker, ends: Mapping[Partition, int],
                   events: EventSet, latency_s: float, budget_s: float) -> None:
    """The rows ``eos_*``: throughput of each guarantee, their ratio, paced latency of each."""
    rates = {}
    for name in GUARANTEES:
        rates[name] = throughput(run, name, ends, budget_s)
        results.add(Row(f"eos_rate_{SHORT[name]}", f"cjo, 1 worker process, {name}",
                        rates[name], "events/s", sum(ends.values()),
                        sum(ends.values()) / rates[name]))
    results.add(Row("eos_cost", "exactly_once / at_least_once events/s",
                    rates["exactly_once"] / rates["at_least_once"], "x"))
    rate = rates["at_least_once"] / 2
    for name in GUARANTEES:
        delays = latencies(run, name, events, rate, latency_s, budget_s)
        for q in (50, 99):
            results.add(Row(f"eos_latency_{SHORT[name]}_p{q}",
                            f"latency p{q} at {rate:,.0f}/s, {name}",
                            percentile(delays, q) if delays else None, "ms",
                            note=f"{len(delays):,} offers" if q == 50 else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.guarantees",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    events = generate(args.subscribers, args.events, 1, args.seed)
    results = Results(setup={"subscribers": args.subscribers, "events": args.events,
                             "partitions": args.partitions, "broker": "Apache Kafka"})
    tmp = Path(tempfile.mkdtemp(prefix="cjo-bench-eos-"))
    try:
        with KafkaBroker() as broker:
            run = stages.Broker(broker.bootstrap, args.partitions, tmp)
            inputs = run.inputs()
            create_topics(broker.bootstrap, inputs.values(), args.partitions)
            produced = produce_all(broker.bootstrap, inputs, events.all())
            ends = stages.input_ends(produced.ends, inputs)
            budget = max(180.0, sum(ends.values()) / 300)
            guarantee_rows(results, run, ends, events, args.latency_seconds, budget)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
