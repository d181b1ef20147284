"""`cjo demo`: embedded broker + worker + a recorded log replayed, then the offers printed."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import orjson

from cjo import codec
from cjo.adapters.broker import EmbeddedBroker
from cjo.adapters.kafka_admin import create_topics, read_all
from cjo.adapters.replay import replay
from cjo.adapters.worker_process import WorkerProcess, wait_consumed, worker_env
from cjo.settings import Settings, load
from cjo.summary import Summary, offer_line


def sample_log() -> Path:
    return Path(str(resources.files("cjo").joinpath("samples", "sample.jsonl")))


@dataclass
class DemoOptions:
    events: Path
    out: Path | None = None
    partitions: int = 8
    timeout_s: float = 600.0
    show: int = 50  # offers printed; all of them go to --out
    speed: float | None = None  # replay pace: N x event time; None = as fast as possible


def run_demo(opts: DemoOptions, stdout: TextIO = sys.stdout) -> int:
    with tempfile.TemporaryDirectory(prefix="cjo-demo-") as tmp, EmbeddedBroker() as broker:
        settings = load(broker=broker.bootstrap, partitions=opts.partitions, app_id="cjo-demo",
                        time_mode="replay",
                        data_dir=Path(tmp) / "state")
        create_topics(settings.broker, settings.topics.all(), settings.partitions)
        worker = WorkerProcess(worker_env(settings), Path(tmp) / "worker.log").start()
        try:
            print(f"broker on {broker.bootstrap}; replaying {opts.events}", file=stdout)
            replayed = replay(opts.events, settings.broker, settings.topics, speed=opts.speed,
                              progress=sys.stderr.isatty())
            print(replayed.render(), file=stdout)
            wait_consumed(settings.broker, settings.app_id, _inputs_only(replayed.end_offsets,
                          settings), worker, opts.timeout_s)
            summary = collect(settings)
        finally:
            worker.stop()
        _report(summary, opts, stdout)
    return 0


def _inputs_only(end_offsets: dict[tuple[str, int], int],
                 settings: Settings) -> dict[tuple[str, int], int]:
    inputs = set(settings.topics.inputs().values())
    return {tp: end for tp, end in end_offsets.items() if tp[0] in inputs}


def collect(settings: Settings) -> Summary:
    topics = settings.topics
    records = read_all(settings.broker, [*topics.offers().values(), topics["decisions"],
                                         topics["dlq"], *topics.inputs().values()])
    by_topic: dict[str, list[Any]] = {}
    for record in records:
        by_topic.setdefault(record.topic, []).append(record)
    decoded = {t: [codec.decode(r.value)[1] for r in by_topic.get(t, [])]
               for t in [*topics.offers().values(), topics["decisions"]]}
    offers = [o for t in topics.offers().values() for o in decoded[t]]
    offers.sort(key=lambda o: (o["trigger_time"], o["offer_id"]))
    events = {s: len(by_topic.get(t, [])) for s, t in topics.inputs().items()}
    return Summary(events=events, dead_letters=len(by_topic.get(topics["dlq"], [])),
                   offers=offers, decisions=decoded[topics["decisions"]])


def _report(summary: Summary, opts: DemoOptions, stdout: TextIO) -> None:
    print(summary.render(), file=stdout)
    shown = summary.offers[: opts.show]
    print(f"\nfirst {len(shown)} of {len(summary.offers)} offers:", file=stdout)
    for offer in shown:
        print("  " + offer_line(offer), file=stdout)
    if opts.out is not None:
        write_jsonl(opts.out, summary.offers)
        print(f"wrote {len(summary.offers)} offers to {opts.out}", file=stdout)


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    with path.open("wb") as out:
        for row in rows:
            out.write(orjson.dumps(row) + b"\n")
