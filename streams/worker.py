"""`cjo worker`: create the topics, then run one Faust worker until stopped."""

from __future__ import annotations

import socket

import faust

from cjo import logs
from cjo.adapters.kafka_admin import create_topics
from cjo.settings import Settings
from streams.app import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_worker(settings: Settings) -> int:
    """Blocks until SIGINT/SIGTERM; faust then commits, flushes and closes its tables."""
    logs.configure(settings.log_level, settings.log_format, settings.log_salt.get_secret_value())
    create_topics(settings.broker, settings.topics.all(), settings.partitions)
    wiring = create_app(settings, settings.web_port or _free_port())
    worker = faust.Worker(wiring.app, loglevel=settings.log_level.upper(), quiet=True)
    worker.execute_from_commandline()
    return 0
