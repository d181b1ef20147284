"""Stopping a child process: a signal, a grace period, then SIGKILL."""

from __future__ import annotations

import signal
import subprocess


def stop_process(proc: subprocess.Popen[bytes] | None, grace_s: float,
                 sig: signal.Signals = signal.SIGTERM) -> None:
    """Send ``sig`` to a running child; SIGKILL it if it is still there after ``grace_s``."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
