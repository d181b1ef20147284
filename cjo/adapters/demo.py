"""`cjo demo`: embedded broker (`--kafka`: Apache Kafka) + worker + a recorded log replayed, then
the offers printed; with ``gateways``, loopback endpoints and a ``cjo gateway`` per channel too,
and what they delivered (``cjo.adapters.demo_gateways``). The worker's live dashboard URL is
printed as it starts; with ``--serve`` the broker and the worker stay up after the summary,
serving the dashboard until Ctrl-C.

When the demo fails (the worker stops, the wait times out) the worker's log is kept and its path
printed; on success it is removed. Ctrl-C is an interruption, said as such, not a failure: the
log is kept only if the worker wrote something.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from cjo import codec
from cjo.adapters.broker import EmbeddedBroker
from cjo.adapters.demo_gateways import DemoGateways
from cjo.adapters.evaluate_command import quality_lines
from cjo.adapters.jsonl import write_jsonl
from cjo.adapters.kafka_admin import Replication, create_topics, read_all
from cjo.adapters.kafka_broker import KafkaBroker
from cjo.adapters.replay import replay
from cjo.adapters.worker_process import WorkerProcess, wait_consumed, worker_env
from cjo.catalogue.validate import default_catalogue, load_files
from cjo.settings import Settings, load
from cjo.summary import Summary, offer_line
from cjo.words import count


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
    catalogue: Sequence[Path] = field(default_factory=tuple)  # empty: the bundled default
    decisions: Path | None = None  # every decision with its reasons, as JSON lines
    verbose: bool = False  # also the replay's end offsets per partition
    kafka: bool = False  # a single-node Apache Kafka instead of the embedded broker
    gateways: bool = False  # loopback endpoints and a gateway per channel (docs/gateways.md)
    serve: bool = False  # keep serving the dashboard after the summary, until Ctrl-C


def run_demo(opts: DemoOptions, stdout: TextIO = sys.stdout) -> int:
    if opts.catalogue:
        load_files(opts.catalogue)  # refused here, in one line per problem, before any start
    handle, name = tempfile.mkstemp(prefix="cjo-demo-worker-", suffix=".log")
    os.close(handle)
    worker_log = Path(name)
    try:
        summary, delivered = _run(opts, worker_log, stdout)
    except KeyboardInterrupt:  # Ctrl-C: the user stopped it, nothing failed
        if _keep(worker_log):
            print(f"cjo: demo interrupted; the worker's log: {worker_log}", file=sys.stderr)
        raise
    except BaseException:
        print(f"cjo: demo failed; the worker's log is kept: {worker_log}", file=sys.stderr)
        raise
    worker_log.unlink(missing_ok=True)
    if not opts.serve:  # --serve reported before serving
        _report(summary, opts, stdout, delivered)
    return 0


def _keep(worker_log: Path) -> bool:
    """Whether the worker's log says anything (an empty one is removed, not shown)."""
    try:
        if worker_log.stat().st_size > 0:
            return True
    except OSError:
        return False
    worker_log.unlink(missing_ok=True)
    return False


def _web_port() -> int:
    """``CJO_WEB_PORT`` when set, else a free port (the URL is printed): a fixed default could
    be taken by another program between this check and the worker's start."""
    configured = load().web_port
    if configured:
        return configured
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(worker: WorkerProcess, url: str, stdout: TextIO) -> None:
    """Until Ctrl-C (or the worker stops): the dashboard stays up."""
    print(f"\nserving the dashboard at {url} until Ctrl-C", file=stdout, flush=True)
    try:
        while worker.alive:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("stopping", file=stdout, flush=True)


def _broker(opts: DemoOptions) -> EmbeddedBroker | KafkaBroker:
    return KafkaBroker() if opts.kafka else EmbeddedBroker()


def _run(opts: DemoOptions, worker_log: Path, stdout: TextIO) -> tuple[Summary, str]:
    with tempfile.TemporaryDirectory(prefix="cjo-demo-") as tmp, _broker(opts) as broker:
        settings = load(broker=broker.bootstrap, partitions=opts.partitions, app_id="cjo-demo",
                        embedded_broker_workarounds=broker.workarounds,
                        time_mode="replay", data_dir=Path(tmp) / "state",
                        development=True,  # the public default models key and log salt do
                        # its own single node: one copy, whatever a cluster's settings say
                        replication_factor=-1, min_insync_replicas=0,
                        catalogue=",".join(str(p.resolve()) for p in opts.catalogue) or None,
                        web_port=_web_port())
        create_topics(settings.broker, settings.topics.all(), settings.partitions,
                      replication=Replication.of(settings))
        worker = WorkerProcess(worker_env(settings), worker_log).start()
        gateways = DemoGateways(settings, Path(tmp))
        url = f"http://127.0.0.1:{settings.web_port}/dashboard"
        try:
            if opts.gateways:
                gateways.start()
            name = "broker" if broker.workarounds else f"{broker.kind} broker"
            print(f"live dashboard: {url}", file=stdout, flush=True)
            print(f"{name} on {broker.bootstrap}; replaying {opts.events}", file=stdout)
            replayed = replay(opts.events, settings.broker, settings.topics, speed=opts.speed,
                              progress=sys.stderr.isatty())
            print(replayed.render(end_offsets=opts.verbose), file=stdout)
            wait_consumed(settings.broker, settings.app_id, _inputs_only(replayed.end_offsets,
                          settings), worker, opts.timeout_s)
            delivered = ""
            if gateways.available:
                gateways.wait(opts.timeout_s)
                delivered = gateways.summary()
            summary = collect(settings)
            if opts.serve:
                _report(summary, opts, stdout, delivered)
                _serve(worker, url, stdout)
            return summary, delivered
        finally:
            gateways.stop()
            worker.stop()


def _inputs_only(end_offsets: dict[tuple[str, int], int],
                 settings: Settings) -> dict[tuple[str, int], int]:
    inputs = set(settings.topics.inputs().values())
    return {tp: end for tp, end in end_offsets.items() if tp[0] in inputs}


def collect(settings: Settings) -> Summary:
    topics = settings.topics
    records = read_all(settings.broker, [*topics.offers().values(), topics["decisions"],
                                         topics["outcomes"], topics["dlq"],
                                         *topics.inputs().values()],
                       isolation=settings.isolation_level)
    by_topic: dict[str, list[Any]] = {}
    for record in records:
        by_topic.setdefault(record.topic, []).append(record)
    decoded = {t: [codec.decode(r.value)[1] for r in by_topic.get(t, [])]
               for t in [*topics.offers().values(), topics["decisions"], topics["outcomes"]]}
    offers = [o for t in topics.offers().values() for o in decoded[t]]
    offers.sort(key=lambda o: (o["trigger_time"], o["offer_id"]))
    events = {s: len(by_topic.get(t, [])) for s, t in topics.inputs().items()}
    return Summary(events=events, dead_letters=len(by_topic.get(topics["dlq"], [])),
                   offers=offers, decisions=decoded[topics["decisions"]],
                   closed=decoded[topics["outcomes"]])


def _report(summary: Summary, opts: DemoOptions, stdout: TextIO, delivered: str = "") -> None:
    print(summary.render(), file=stdout)
    catalogue = load_files(opts.catalogue) if opts.catalogue else default_catalogue()
    print("\n" + "\n".join(quality_lines(summary.decisions, summary.closed, catalogue)),
          file=stdout)
    shown = summary.offers[: opts.show]
    print(f"\nfirst {len(shown)} of {len(summary.offers)} offers:", file=stdout)
    for offer in shown:
        print("  " + offer_line(offer), file=stdout)
    if opts.out is not None:
        write_jsonl(opts.out, summary.offers)
        print(f"wrote {count(len(summary.offers), 'offer')} to {opts.out}", file=stdout)
    if opts.decisions is not None:
        write_jsonl(opts.decisions, summary.decisions)
        print(f"wrote {count(len(summary.decisions), 'decision')} (with their reasons) to "
              f"{opts.decisions}", file=stdout)
    if delivered:
        print("\n" + delivered, file=stdout)
