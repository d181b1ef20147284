"""`cjo worker`: create the topics, then run one Faust worker until stopped."""

from __future__ import annotations

import socket
import time
from functools import partial

import uvloop

from cjo import logs
from cjo.adapters.catalogue_topic import fallback_catalogue, read_live
from cjo.adapters.control_topics import ensure_control_topics, read_dnc, read_models
from cjo.adapters.kafka_admin import Replication, create_topics
from cjo.settings import Settings, refuse_public_defaults
from cjo.stream_registry import STREAMS
from streams import failstop, faust_pins
from streams.app import StartState, Wiring, create_app, internal_topics
from streams.drain import DrainingWorker

log = logs.get("cjo.worker")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_start(settings: Settings) -> StartState:
    """The control topics read to their ends: catalogue, model snapshot, do-not-contact list."""
    live = read_live(settings)
    catalogue = live.catalogue or fallback_catalogue(settings)
    log.info("catalogue", digest=catalogue.digest, triggers=len(catalogue.enabled()),
             source="topic" if live.catalogue else settings.catalogue or "bundled default")
    ensure_control_topics(settings)
    models = read_models(settings)  # the newest valid: bad records are refused, never block
    log.info("models", version=models.version if models.value else None,
             refused=models.refused)
    blocked, dnc_offset, dnc_refused = read_dnc(settings)
    return StartState(catalogue, live.next_offset, models.value, models.next_offset, blocked,
                      dnc_offset, refused=live.refused + models.refused + dnc_refused)


def run_worker(settings: Settings) -> int:
    """Blocks until SIGINT/SIGTERM; faust then commits, flushes and closes its tables. A
    worker-level error ends the process at once with ``failstop.EXIT_CODE`` and a one-line
    reason on stderr (``streams.failstop``)."""
    refuse_public_defaults(settings)
    logs.configure(settings.log_level, settings.log_format, settings.log_salt.get_secret_value())
    logs.quiet_library_chatter(settings.log_level)
    if settings.uvloop:
        uvloop.install()  # before faust creates its loop: cheaper awaits and callbacks
    replication = Replication.of(settings)
    create_topics(settings.broker, settings.topics.all(), settings.partitions,
                  replication=replication)
    for topic, (partitions, config) in internal_topics(settings).items():
        create_topics(settings.broker, [topic], partitions, config, replication=replication)
    wiring = create_app(settings, settings.web_port or _free_port(), read_start(settings))
    faust_pins.install_failstop(failstop.halt)
    worker = DrainingWorker(wiring.app, loglevel=settings.log_level.upper(), quiet=True,
                            override_logging=False)  # cjo.logs routes faust's records
    worker.spinner = None  # faust's terminal spinner: escape codes in a log of JSON lines
    worker.health, worker.consumer = wiring.health, wiring.consumer
    worker.drain_delay_s = settings.drain_delay_s
    worker.on_ready = partial(_say_ready, settings, wiring)
    began = time.monotonic()
    try:
        worker.execute_from_commandline()
    finally:
        _say_stopped(wiring, time.monotonic() - began)
    return 0


def _say_ready(settings: Settings, wiring: Wiring) -> None:
    """One line once the worker has recovered its state and runs."""
    inputs = set(settings.topics.inputs().values())
    partitions = sorted({tp.partition for tp in wiring.app.consumer.assignment()
                         if tp.topic in inputs})
    log.info("ready", partitions=partitions, time_mode=settings.time_mode,
             catalogue=wiring.processor.catalogue.digest,
             guarantee=settings.processing_guarantee, web=wiring.app.conf.canonical_url)


def _say_stopped(wiring: Wiring, seconds: float) -> None:
    """One line at the end: what this worker did."""
    counts = wiring.processor.counts
    tally = wiring.processor.tally
    log.info("stopped", seconds=round(seconds, 1),
             events=sum(counts.get(s, 0) for s in STREAMS),
             decisions=tally.decided_total, offers=sum(tally.offers.values()),
             dead_letters=counts.get("dead_letters", 0) + counts.get("failed", 0),
             timers_fired=counts.get("timers_fired", 0),
             inbound=sum(b.count for b in tally.inbound.values()))
