"""Structured logs: JSON lines when not on a terminal, readable lines on one.

Subscriber identifiers never appear in clear: log ``subscriber=hash_id(imsi)``.

Libraries that log through the standard ``logging`` module (faust, mode, aiokafka) are routed
through the same renderer by a root handler, so a worker's log is one format: the worker must
not let faust install its own handlers (``faust.Worker(..., override_logging=False)``).
"""

from __future__ import annotations

import hashlib
import logging
import sys
from typing import Any

import structlog

_salt = b"cjo"


def configure(level: str = "INFO", fmt: str = "auto", salt: str = "cjo") -> None:
    global _salt  # noqa: PLW0603 - one process-wide salt, set once at start
    _salt = salt.encode()
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    route_stdlib(renderer, level)


def route_stdlib(renderer: Any, level: str) -> None:
    """Send every standard-library log record (faust's, aiokafka's) through ``renderer`` on
    stderr: one handler on the root logger replaces whatever was there."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def hash_id(identifier: str) -> str:
    """A stable, salted, short hash of a subscriber identifier, safe for logs."""
    return hashlib.blake2b(identifier.encode(), key=_salt[:64], digest_size=8).hexdigest()


def get(name: str) -> Any:
    return structlog.get_logger(name)
