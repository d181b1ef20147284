"""Child processes of the bench (cjo workers, the naive agent): start, watch, measure, stop.

Throughput is timed from the moment the first child is ready (the worker's `ready` log
line: partitions assigned, tables recovered; so the children run at log level INFO) to the
moment every input partition is committed up to its end: start-up and the group join are
excluded. Without that line the start is the first sign of work: a committed offset, or a record
on the group's changelog topics or on ``marks`` (a cjo worker's tick topic). Neither is a good
mark alone: a cjo worker may hold its first commit, its changelog writes and its ticks while it
works through a large fetch. A run that
stops making progress, or outlasts its budget, ends with :class:`StageTimeout` instead of hanging.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from cjo.adapters.kafka_admin import Partition, committed_offsets, end_offsets
from cjo.adapters.kafka_security import confluent_config
from cjo.adapters.processes import stop_process

READY = '"event": "ready"'  # the worker's one ready line (streams/worker.py: _say_ready)


def log_time(line: str) -> float:
    """The time of a worker log line, epoch seconds: a JSON line's ``timestamp`` (cjo.logs
    renders faust's records too) or a plain faust line ``[2026-11-30 19:25:07,248] ...``."""
    if line.startswith("{"):
        stamp = str(orjson.loads(line)["timestamp"]).replace("Z", "+00:00")
        return datetime.fromisoformat(stamp).timestamp()
    return datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").timestamp()


class StageTimeout(Exception):
    """A stage made no progress for too long, or ran past its budget."""


class StageFailed(Exception):
    """A child process died."""


class Child:
    """One child process, its output appended to ``log_path``."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.argv = [sys.executable, *argv]
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def start(self) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.started = time.perf_counter()
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_bytes(self) -> int:
        """Resident set size now (VmRSS), 0 when not running."""
        if not self.alive or self.proc is None:
            return 0
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM (faust commits and closes its tables), SIGKILL after the grace period."""
        stop_process(self.proc, grace_s)

    def ready_at(self) -> float | None:
        """Wall time (epoch s) of the worker's ``ready`` line in the log, if any."""
        try:
            with self.log_path.open(errors="replace") as log:
                for line in log:
                    if READY in line and line.startswith(("[", "{")):
                        return log_time(line)
        except (OSError, ValueError):
            return None
        return None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) process ``pid`` has used, in seconds; 0 when it is gone."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:  # utime + stime, after the command name
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The machine's 1-minute load average (the run shares 2 cores with whatever else runs)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def cjo_worker(env: Mapping[str, str], log_path: Path) -> Child:
    return Child(["-m", "cjo", "worker"], env, log_path)


def disk_bytes(path: Path) -> int:
    """Bytes of every file under ``path`` (``du -b``)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def changelog_topics(bootstrap: str, app_id: str, marks: Sequence[str] = ()) -> list[str]:
    """The changelog topics of faust app ``app_id`` (its tables'), and those of ``marks`` that
    exist (listing every topic: asking for one by name would make the broker create it)."""
    topics = AdminClient(confluent_config(bootstrap)).list_topics(timeout=30).topics
    return sorted(t for t in topics
                  if (t.startswith(f"{app_id}-") and t.endswith("-changelog")) or t in marks)


def changelog_records(bootstrap: str, app_id: str, marks: Sequence[str] = ()) -> int:
    """Records in the changelog topics of ``app_id`` and in ``marks`` (exact end offsets)."""
    names = changelog_topics(bootstrap, app_id, marks)
    return sum(end_offsets(bootstrap, names).values()) if names else 0


# What a group coordinator answers while it moves or loads (Apache Kafka, at a group's start or
# under load): the bench's polls ask again at their next round instead of failing the stage.
TRANSIENT = (KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
             KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError.REQUEST_TIMED_OUT,
             KafkaError._TIMED_OUT, KafkaError._TRANSPORT)


def committed_now(bootstrap: str, group: str, topics: Sequence[str]) -> dict[Partition, int] | None:
    """``group``'s committed offsets, or None when the coordinator answered a transient error."""
    try:
        return committed_offsets(bootstrap, group, topics)
    except KafkaException as err:
        error = err.args[0] if err.args else None
        if isinstance(error, KafkaError) and (error.retriable() or error.code() in TRANSIENT):
            return None
        raise


@dataclass
class Timing:
    seconds: float  # first commit -> all committed
    peak_rss: int  # the largest RSS sum of the children, sampled while they ran
    idle_rss: int  # the RSS sum when the start was seen (ready, before the work)


def time_commits(bootstrap: str, group: str, ends: Mapping[Partition, int],
                 children: Sequence[Child], budget_s: float, stall_s: float = 90.0,
                 marks: Sequence[str] = (), on_start: Callable[[], object] | None = None
                 ) -> Timing:
    """Wait until ``group`` committed every partition of ``ends`` to its end; see the module
    docstring; ``on_start`` is called once the start is seen. Raises StageTimeout or
    StageFailed."""
    topics = sorted({t for t, _ in ends})
    total = sum(ends.values())
    begun = time.time()
    first: float | None = None
    best, best_at, peak, idle = -1, begun, 0, 0
    while True:
        committed = committed_now(bootstrap, group, topics)
        if committed is None:
            time.sleep(0.25)
            continue
        done = sum(min(max(committed.get(tp, -1), 0), end) for tp, end in ends.items())
        now = time.time()
        if done >= total:
            return Timing(now - (first or now), peak, idle)
        rss = sum(c.rss_bytes() for c in children)
        peak = max(peak, rss)
        # progress: commits, or changelog writes (a worker may hold its commits for long)
        progress = done + changelog_records(bootstrap, group, marks)
        if first is None:
            ready = [t for t in (c.ready_at() for c in children) if t is not None]
            if ready or progress > 0:
                first, idle = min(ready) if ready else now, rss
                if on_start is not None:
                    on_start()
        if progress > best:
            best, best_at = progress, now
        dead = [c for c in children if not c.alive]
        if dead:
            raise StageFailed(f"a child process died; its log ends with:\n{dead[0].log_tail()}")
        if now - best_at > stall_s or now - begun > budget_s:
            why = f"no progress for {stall_s:.0f} s" if now - best_at > stall_s else "over budget"
            raise StageTimeout(f"{why} after {now - begun:.0f} s: {done:,} of {total:,} "
                               f"records committed (log: {children[0].log_path})")
        time.sleep(0.25)
