"""Fail-stop: a worker that cannot go on ends at once, with one line saying why.

A worker-level error (anything escaping the processor's batch handling, the learner agent, a
control-topic follower, a timer, faust's own services such as the fetcher, the commit or the
changelog recovery, or a failed state write) ends the process with ``EXIT_CODE`` and the line
``cjo worker: stopped: <ExceptionType>: <message>`` on stderr (and a ``worker_stopped`` log event
with the traceback). A bad input record is not such an error: the processor dead-letters it.

The end is ``os._exit``: nothing runs after it, no commit and no graceful stop of faust's
services (that graceful stop is what left a crashed worker alive and deaf to SIGTERM). It is the
same as a SIGKILL, which the crash tests show to be safe: a committed offset only ever covers
records that are processed and whose writes are durable (``streams.offsets``), so a restarted
worker reads again whatever the stopped one had not stored.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from typing import NoReturn

from cjo import logs

log = logs.get("cjo.worker")

EXIT_CODE = 70  # EX_SOFTWARE (sysexits.h): the worker cannot go on; a supervisor restarts it
MAX_MESSAGE = 500

# a subscriber identifier that may sit in an exception's message (IMSI, MSISDN, email)
_IDENTIFIER = re.compile(r"\+?\d{10,}|[\w.+-]+@[\w-]+\.[\w.-]+")


def scrub(text: str) -> str:
    """``text`` with every run of 10 or more digits and every email address hashed
    (``cjo.logs.hash_id``): an exception's message may quote a record."""
    return _IDENTIFIER.sub(lambda m: f"<id:{logs.hash_id(m.group())}>", text)


def reason(exc: BaseException) -> str:
    """The one line that says why the worker stopped."""
    message = scrub(" ".join(str(exc).split()))
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "..."
    name = type(exc).__name__
    return f"cjo worker: stopped: {name}: {message}" if message else f"cjo worker: stopped: {name}"


def halt(exc: BaseException, where: str = "") -> NoReturn:
    """Log why, then end the process with ``EXIT_CODE`` at once (see the module docstring)."""
    line = reason(exc)
    try:
        trace = scrub("".join(traceback.format_exception(exc)))
        log.critical("worker_stopped", reason=line, where=where, traceback=trace)
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()
    except BaseException:  # the line below must go out whatever logging does
        pass
    try:
        os.write(2, (line + "\n").encode(errors="replace"))
    finally:
        os._exit(EXIT_CODE)
