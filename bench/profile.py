"""``--profile``: sample a worker with py-spy while it runs, and summarise where its time went.

py-spy (a dev dependency here) attaches to the running process (``py-spy record --pid``) and
writes collapsed stacks (``--format raw``: ``frame;frame;frame count`` a line). The summary is
the share of samples per function, inclusive (on the stack) and by itself (the leaf), which is
what docs/benchmarks.md quotes.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

RATE_HZ = 100
_ENTRY_FILES = ("__main__.py", "cli.py", "worker.py")  # wrappers on every stack: no news


@dataclass
class Profile:
    samples: int = 0
    inclusive: Counter[str] = field(default_factory=Counter)  # cjo's own functions only
    leaf: Counter[str] = field(default_factory=Counter)

    def top(self, n: int = 12) -> list[tuple[str, float, float]]:
        """(cjo function, % of samples on the stack, % as the leaf), by inclusive share."""
        if not self.samples:
            return []
        return [(name, 100 * count / self.samples, 100 * self.leaf[name] / self.samples)
                for name, count in self.inclusive.most_common(n)]

    def top_leaves(self, n: int = 12) -> list[tuple[str, float]]:
        if not self.samples:
            return []
        return [(name, 100 * c / self.samples) for name, c in self.leaf.most_common(n)]


def _function(frame: str) -> tuple[str, bool]:
    """``name (/path/to/pkg/module.py:123)`` -> (``name (pkg/module.py)``, is it cjo's own code:
    not from site-packages nor the standard library)."""
    name, _, where = frame.partition(" (")
    path = Path(where.rsplit(":", 1)[0])
    folders = path.parts[:-1]
    own = ("site-packages" not in folders and ("cjo" in folders or "streams" in folders)
           and name != "<module>" and path.name not in _ENTRY_FILES)
    return (f"{name} ({path.parent.name}/{path.name})" if where else name), own


def summarise(collapsed: str) -> Profile:
    """Collapsed stacks -> a Profile. py-spy leaves idle threads out (no ``--idle``), so the
    shares are of the samples where a thread of the worker was busy."""
    profile = Profile()
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(f) for f in stack.split(";") if f]
        profile.samples += count
        for name in {name for name, own in frames if own}:
            profile.inclusive[name] += count
        if frames:
            profile.leaf[frames[-1][0]] += count
    return profile


class Sampler:
    """py-spy recording one process until stopped; a no-op when py-spy is not installed."""

    def __init__(self, pid: int, out: Path) -> None:
        self.out = out
        self._proc: subprocess.Popen[bytes] | None = None
        binary = str(Path(sys.executable).with_name("py-spy"))
        binary = binary if Path(binary).exists() else shutil.which("py-spy") or binary
        if Path(binary).exists():
            self._proc = subprocess.Popen(
                [binary, "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--format", "raw",
                 "--nonblocking", "--output", str(out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> Profile | None:
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        try:
            return summarise(self.out.read_text(errors="replace"))
        except OSError:
            return None
