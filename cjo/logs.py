"""Structured logs: JSON lines when not on a terminal, readable lines on one.

Subscriber identifiers never appear in clear: log ``subscriber=hash_id(imsi)``. As a safety net,
every log line goes through :func:`mask_event`: anything in a string value that looks like an
IMSI or MSISDN (8 to 15 digits, optionally after ``+``, not part of a longer word or number) or an
email address is replaced by ``<masked:HASH>`` (``HASH`` = :func:`hash_id` of it, so one
subscriber's lines still correlate). Records of the standard ``logging`` module (faust, aiokafka)
get the same treatment of their message (:func:`_install_record_masking`).

Libraries that log through the standard ``logging`` module (faust, mode, aiokafka) are routed
through the same renderer by a root handler, so a worker's log is one format: the worker must
not let faust install its own handlers (``faust.Worker(..., override_logging=False)``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog

_salt = b"cjo"

# 8-15 digits (MSISDN E.164 without or with "+", IMSI 14-15): not inside a word, a longer digit
# run or a decimal number; an email address: local@domain.tld.
_PERSONAL = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"|(?<![\w.+])\+?\d{8,15}(?![\w.])"
)


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
            mask_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    _install_record_masking()
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
            mask_event,
            renderer,
        ],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


# mode's service lifecycle lines ("[^--Producer]: Starting..."): dozens at every start and stop
_CHATTER = re.compile(r"^\[\^.*\]: (Starting|Stopping|Gathering|Closing|Shutting|Restarting"
                      r"|Wait|Cleanup|Crashed reason)")


class _LibraryChatter(logging.Filter):
    """faust's and mode's start-up and shut-down chatter moves to DEBUG."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self._level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if (record.levelno == logging.INFO and record.name.split(".", 1)[0] in (
                "faust", "mode", "streams") and _CHATTER.match(record.getMessage())):
            if self._level > logging.DEBUG:
                return False
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def quiet_library_chatter(level: str) -> None:
    """faust's start-up chatter at DEBUG (after ``configure``): shown only at that level."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_LibraryChatter(logging.getLevelName(level.upper())))


def hash_id(identifier: str) -> str:
    """A stable, salted, short hash of a subscriber identifier, safe for logs."""
    return hashlib.blake2b(identifier.encode(), key=_salt[:64], digest_size=8).hexdigest()


def mask(text: str) -> str:
    """``text`` with every IMSI-, MSISDN- or email-like part replaced by ``<masked:HASH>``."""
    return _PERSONAL.sub(lambda match: f"<masked:{hash_id(match.group())}>", text)


def mask_event(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """structlog processor: :func:`mask` over every string (and bytes) value, nested ones too."""
    for key, value in event.items():
        event[key] = _masked(value)
    return event


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, bytes | bytearray):
        return mask(repr(bytes(value)))
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(v) for v in value]
    return value


_base_factory: Callable[..., logging.LogRecord] | None = None


def _install_record_masking() -> None:
    """Mask the message of every standard ``logging`` record this process creates (once)."""
    global _base_factory  # noqa: PLW0603 - the factory is process-wide by design
    if _base_factory is not None:
        return
    _base_factory = base = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return record
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return record

    logging.setLogRecordFactory(factory)


def get(name: str) -> Any:
    if not structlog.is_configured():
        configure()
    return structlog.get_logger(name)
