"""Replay a recorded event log (JSON Lines, docs/data-contract.md) into the input topics.

Each good line becomes one Avro record on its stream's topic, keyed by imsi and stamped with its
event time; a bad line is counted and sent to the dead-letter topic, and never stops the replay.
The summary's ``end_offsets`` come from the delivery reports, so a caller knows exactly which
offsets mean "everything replayed has been consumed".
"""

from __future__ import annotations

import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from confluent_kafka import KafkaError, Message, Producer
from tqdm import tqdm

from cjo.adapters.kafka_admin import Partition, Replication, create_topics, producer_config
from cjo.codec import dead_letter, encode_complete, parse_log_line
from cjo.errors import BrokerError, ConfigError, InvalidRecord
from cjo.logs import shown_error
from cjo.settings import Topics, load

FLUSH_TIMEOUT_S = 60.0
ERRORS_KEPT = 5
# At full speed a long linger makes few, large batches: with linger 5 ms the embedded broker
# burnt more CPU on tiny batches than the replay itself (two cores), halving the rate.
MAX_SPEED_LINGER_MS = 100
_BAR_STEP = 500
_POLL_EVERY = 64


@dataclass
class ReplaySummary:
    """What a replay did; ``render()`` is the closing text of ``cjo replay``."""

    path: Path
    lines_read: int = 0
    produced: Counter[str] = field(default_factory=Counter)
    bad_lines: int = 0
    dead_lettered: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    elapsed_s: float = 0.0
    end_offsets: dict[Partition, int] = field(default_factory=dict)
    stopped_by: str = ""  # the signal that stopped the replay before the end of the file

    @property
    def events(self) -> int:
        return sum(self.produced.values())

    @property
    def events_per_s(self) -> float:
        return self.events / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def note_bad(self, line_number: int, error: InvalidRecord) -> None:
        self.bad_lines += 1
        if len(self.errors) < ERRORS_KEPT:
            # printed: no personal data, but the user's own value where it is not personal
            self.errors.append((line_number, shown_error(error)))

    def render(self, end_offsets: bool = True) -> str:
        streams = ", ".join(f"{name} {count:,}" for name, count in sorted(self.produced.items()))
        verb = f"stopped by {self.stopped_by}: replayed the first" if self.stopped_by else \
            "replayed"
        lines = [
            f"{verb} {self.path.name}: {self.lines_read:,} lines, {self.events:,} events in "
            f"{self.elapsed_s:.2f} s ({self.events_per_s:,.0f} events/s)",
            f"  produced: {streams or 'nothing'}",
            f"  bad lines: {self.bad_lines:,} ({self.dead_lettered:,} dead-lettered)",
            *(f"    line {number}: {message}" for number, message in self.errors),
        ]
        if self.bad_lines > len(self.errors):
            lines.append(f"    ... and {self.bad_lines - len(self.errors):,} more")
        if self.stopped_by:
            lines.append(f"  the rest, from line {self.lines_read + 1:,}, was not replayed "
                         f"(replaying the file again produces these {self.events:,} events again)")
        if not end_offsets:
            return "\n".join(lines)
        lines.append("  end offsets:")
        for topic in sorted({topic for topic, _ in self.end_offsets}):
            ends = sorted((p, end) for (t, p), end in self.end_offsets.items() if t == topic)
            lines.append(f"    {topic}: " + " ".join(f"{p}:{end}" for p, end in ends))
        return "\n".join(lines)


class StopRequest:
    """Set by SIGTERM or SIGINT during ``cjo replay`` (:func:`stop_on_signals`); the replay
    stops between two lines, delivers what it produced and says so."""

    def __init__(self) -> None:
        self.signal = ""  # the name of the signal received, once one was

    def __bool__(self) -> bool:
        return bool(self.signal)


class _Stopped(Exception):
    pass


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """A :class:`StopRequest` that SIGTERM and SIGINT set while inside."""
    request = StopRequest()

    def stop(signum: int, _frame: FrameType | None) -> None:
        request.signal = signal.Signals(signum).name
        for sig, handler in previous.items():  # a second one is not waited for
            signal.signal(sig, handler)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Deliveries:
    """Delivery-report callback: the end offset per partition, and what failed."""

    def __init__(self) -> None:
        self.ends: dict[Partition, int] = {}
        self.failed = 0
        self.first_error = ""

    def __call__(self, error: KafkaError | None, msg: Message) -> None:
        topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
        if error is not None or topic is None or partition is None or offset is None:
            self.failed += 1
            self.first_error = self.first_error or f"{msg.topic()}: {error}"
            return
        tp = (topic, partition)
        self.ends[tp] = max(self.ends.get(tp, 0), offset + 1)


class _Pacer:
    """Turns event-time gaps into real waits (divided by ``speed``), relative to the first event.

    It only ever waits for a record that is early; when the replay is behind it sends at once.
    """

    def __init__(self, speed: float | None, producer: Producer,
                 stop: StopRequest | None = None) -> None:
        if speed is not None and not speed > 0:
            raise ConfigError(f"replay speed must be a positive number or max, got {speed}")
        self._speed = speed
        self._producer = producer
        self._stop = stop if stop is not None else StopRequest()
        self._origin: tuple[int, float] | None = None

    def wait_for(self, event_time: int) -> None:
        if self._speed is None:
            return
        if self._origin is None:
            self._origin = (event_time, time.monotonic())
            return
        due = self._origin[1] + (event_time - self._origin[0]) / 1000.0 / self._speed
        while (delay := due - time.monotonic()) > 0:
            if self._stop:
                raise _Stopped  # before this line's record: it was not produced
            self._producer.poll(min(delay, 0.1))  # serve delivery reports while waiting


class _Replayer:
    def __init__(self, path: Path, producer: Producer, topics: Topics, dlq: bool) -> None:
        self.summary = ReplaySummary(path=path)
        self._sent = 0
        self.deliveries = _Deliveries()
        self._producer = producer
        self._inputs = topics.inputs()
        self._dlq_topic = topics["dlq"] if dlq else None
        self._source = f"replay:{path.name}"

    def line(self, number: int, line: bytes, pacer: _Pacer) -> None:
        try:
            stream, key, payload, event_time = self._encode(line)
        except InvalidRecord as error:
            self.summary.note_bad(number, error)
            self._dead_letter(number, line, error)
            return
        pacer.wait_for(event_time)
        self._send(self._inputs[stream], key, payload, event_time)
        self.summary.produced[stream] += 1

    def _encode(self, line: bytes) -> tuple[str, bytes, bytes, int]:
        record = parse_log_line(line)  # a known stream, keyed by its imsi (or refused)
        payload = encode_complete(record.record_name, record.value)  # already normalised
        return record.stream, record.key, payload, record.event_time

    def _dead_letter(self, number: int, line: bytes, error: InvalidRecord) -> None:
        if self._dlq_topic is None:
            return
        letter = dead_letter(
            source_topic=self._source, source_partition=-1, source_offset=number, key=None,
            payload=line, error=str(error), failed_at=int(time.time() * 1000),
        )
        self._send(self._dlq_topic, None, letter, 0)
        self.summary.dead_lettered += 1

    def _send(self, topic: str, key: bytes | None, value: bytes, timestamp: int) -> None:
        while True:
            try:
                self._producer.produce(
                    topic, value, key, timestamp=timestamp, on_delivery=self.deliveries
                )
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                self._producer.poll(0.05)
        self._sent += 1
        if self._sent % _POLL_EVERY == 0:
            self._producer.poll(0)  # serve delivery reports


def count_lines(path: Path) -> int:
    """Lines in a file, fast (for the progress bar's total)."""
    count, last = 0, b"\n"
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def replay(
    path: Path, bootstrap: str, topics: Topics, speed: float | None = None,
    progress: bool = True, dlq: bool = True, stop: StopRequest | None = None,
) -> ReplaySummary:
    """Produce every line of a recorded log; see the module docstring. Raises BrokerError if any
    record could not be delivered. Once ``stop`` is set, stops between two lines (what was
    produced is delivered, and the summary says where it stopped)."""
    stop = stop if stop is not None else StopRequest()
    linger = {"linger_ms": MAX_SPEED_LINGER_MS} if speed is None else {}
    producer = Producer(producer_config(bootstrap, **linger))
    pacer = _Pacer(speed, producer, stop)
    replayer = _Replayer(path, producer, topics, dlq)
    step = _BAR_STEP if speed is None else 1  # a paced replay is slow: show every line
    started = time.monotonic()
    with path.open("rb") as lines, tqdm(
        total=count_lines(path) if progress else None, disable=not progress, file=sys.stderr,
        unit=" lines", unit_scale=True, desc=path.name,
    ) as bar:
        done = 0
        try:
            for number, raw in enumerate(lines, start=1):
                if stop:
                    break
                line = raw.rstrip(b"\r\n")
                if line.strip():
                    replayer.line(number, line, pacer)
                done = number
                if number % step == 0:
                    bar.update(step)
        except _Stopped:
            pass
        replayer.summary.lines_read = done
        replayer.summary.stopped_by = stop.signal
        bar.update(done % step)
    _flush(producer, replayer.deliveries, bootstrap)
    summary = replayer.summary
    summary.elapsed_s = time.monotonic() - started
    summary.end_offsets = dict(sorted(replayer.deliveries.ends.items()))
    return summary


def _flush(producer: Producer, deliveries: _Deliveries, bootstrap: str) -> None:
    undelivered = producer.flush(FLUSH_TIMEOUT_S)
    if undelivered or deliveries.failed:
        raise BrokerError(
            f"replay to {bootstrap}: {deliveries.failed + undelivered} records not delivered "
            f"(first error: {deliveries.first_error or 'timed out'}); is the broker up?"
        )


def run_replay(
    path: Path, bootstrap: str, topics: Topics, speed: float | None,
    partitions: int | None = None,
) -> int:
    """Body of ``cjo replay``: create the topics, replay, print the summary; 0, or 2 on error."""
    if not path.is_file():
        print(f"cjo: no such recorded log: {path}", file=sys.stderr)
        return 2
    settings = load()
    try:
        create_topics(bootstrap, [*topics.inputs().values(), topics["dlq"]],
                      settings.partitions if partitions is None else partitions,
                      replication=Replication.of(settings))
        with stop_on_signals() as stop:
            summary = replay(path, bootstrap, topics, speed, stop=stop)
    except (BrokerError, ConfigError) as err:
        print(f"cjo: {err}", file=sys.stderr)
        return 2
    print(summary.render(), flush=True)
    return 128 + signal.Signals[stop.signal] if stop else 0
