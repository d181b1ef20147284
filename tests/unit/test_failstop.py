"""The one line a stopped worker leaves, and how it leaves."""

from __future__ import annotations

import subprocess
import sys

from cjo import logs
from streams import failstop


def test_the_reason_is_one_line_with_the_error_type() -> None:
    line = failstop.reason(OSError("IO error: While appending\n to file: File too large"))
    assert line == "cjo worker: stopped: OSError: IO error: While appending to file: File too large"
    assert failstop.reason(KeyError()) == "cjo worker: stopped: KeyError"
    assert "\n" not in failstop.reason(ValueError("a\nb\r\nc"))
    assert len(failstop.reason(ValueError("x" * 5000))) < 600


def test_subscriber_identifiers_never_appear_in_clear() -> None:
    text = failstop.reason(
        ValueError("no state for 001010123456789 (+447700900123, a.b@example.com)"))
    for secret in ("001010123456789", "447700900123", "a.b@example.com"):
        assert secret not in text
    assert logs.hash_id("001010123456789") in text
    assert failstop.scrub("offset 4711 of partition 3") == "offset 4711 of partition 3"


HALTING = """
import atexit, sys
from streams import failstop
atexit.register(lambda: print('atexit ran', file=sys.stderr))
try:
    raise RuntimeError('store failed')
except RuntimeError as exc:
    failstop.halt(exc, 'test')
print('went on')
"""


def test_halt_ends_the_process_at_once_with_the_line() -> None:
    done = subprocess.run([sys.executable, "-c", HALTING], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == failstop.EXIT_CODE
    assert "cjo worker: stopped: RuntimeError: store failed\n" in done.stderr
    assert "went on" not in done.stdout
    assert "atexit ran" not in done.stderr  # nothing runs after it: no commit, no close
