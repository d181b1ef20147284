"""Structured logs: JSON lines when not on a terminal, readable lines on one.

Subscriber identifiers never appear in clear: log ``subscriber=hash_id(imsi)``. As a safety net,
every log line goes through :func:`mask_event`, which masks by field where the field is known:

- a personal field (``PERSONAL_FIELDS``: imsi, msisdn, email, destination, key...) is replaced
  whole by ``<masked:HASH>`` (``HASH`` = :func:`hash_id` of it, so one subscriber's lines still
  correlate), whatever it looks like;
- an identifier (``id``, ``*_id``, ``subscriber``, ``digest``) is left as it is: an offer id must
  be found in the log as it was published;
- any other string: anything in it that looks like an IMSI or MSISDN (8 to 15 digits, optionally
  after ``+``, not part of a longer word or number) or an email address is masked, never inside a
  UUID (``1767261600-...`` is not a phone number).

Records of the standard ``logging`` module (faust, aiokafka) get the last treatment of their
message (:func:`_install_record_masking`).

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

from cjo.errors import InvalidRecord

_salt = b"cjo"

# 8-15 digits (MSISDN E.164 without or with "+", IMSI 14-15): not inside a word, a longer digit
# run or a decimal number; an email address: local@domain.tld.
# A UUID is matched first and kept: its first group may be 8 digits.
_PERSONAL = re.compile(
    r"(?P<uuid>(?<![\w-])[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?![\w-]))"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"|(?<![\w.+])\+?\d{8,15}(?![\w.])"
)
#: Fields whose whole value is personal data, masked whatever it looks like.
PERSONAL_FIELDS = frozenset({"imsi", "msisdn", "email", "destination", "app_user_id", "key",
                             "phone", "address"})
#: Fields that are identifiers, never masked (``subscriber`` is already a hash).
_ID_FIELDS = frozenset({"id", "subscriber", "digest"})


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
    """``text`` with every IMSI-, MSISDN- or email-like part replaced by ``<masked:HASH>``
    (a UUID is left whole)."""
    return _PERSONAL.sub(_replace, text)


def _replace(match: re.Match[str]) -> str:
    if match.group("uuid") is not None:
        return match.group()
    return f"<masked:{hash_id(match.group())}>"


def masked_whole(value: Any) -> str:
    """A personal value as a log shows it: ``<masked:HASH>`` (bytes hashed as text)."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    return f"<masked:{hash_id(str(value))}>"


def is_personal(field: str) -> bool:
    """Whether a (dotted) field name holds personal data: ``imsi``, ``profile.msisdn``."""
    return field.rsplit(".", 1)[-1].split("[", 1)[0] in PERSONAL_FIELDS


_QUOTED = re.compile(r"b?(?P<q>['\"])(?P<text>.*?)(?P=q)")


class Shown(str):
    """A text already masked by its field (:func:`mask_error`): a log shows it as it is."""

    __slots__ = ()


def mask_error(field: str, reason: str) -> Shown:
    """What an invalid record's error may show of ``reason``, given the ``field`` it is about: a
    personal field's values (quoted, or looking personal) masked; an error about the record as a
    whole (``field`` empty) masked where it looks personal; the user's own value of any other
    field as it is (an event time, a byte count, an enum symbol are not personal)."""
    if is_personal(field):
        return Shown(mask(_QUOTED.sub(lambda m: masked_whole(m.group("text")), reason)))
    return Shown(mask(reason) if not field else reason)


def shown_error(error: InvalidRecord) -> Shown:
    """``field: reason`` of an invalid record as a log or a summary shows it (``mask_error``)."""
    reason = mask_error(error.field, error.reason)
    return Shown(f"{error.field}: {reason}" if error.field else reason)


def mask_event(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """structlog processor: masks every value by its field (see the module's doc), nested ones
    too."""
    for key, value in event.items():
        event[key] = _masked(value, key)
    return event


def _masked(value: Any, field: str = "") -> Any:
    if isinstance(value, str | bytes | bytearray):
        return _masked_text(value, field)
    if isinstance(value, dict):
        return {k: _masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(v, field) for v in value]
    return value


def _masked_text(value: str | bytes | bytearray, field: str) -> str:
    if isinstance(value, Shown):
        return str(value)
    if field in PERSONAL_FIELDS:
        return masked_whole(value)
    if isinstance(value, str):
        return value if field in _ID_FIELDS or field.endswith("_id") else mask(value)
    return mask(repr(bytes(value)))


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
