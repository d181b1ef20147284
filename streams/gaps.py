"""Offset gaps: when the records of an input partition may be taken past an offset never seen.

A gap is a record of a partition whose offset is past the one the processor expects next. An
earlier version accepted one after 10 s of failed rewinds and skipped 2,712 records; here a gap
is accepted only on the broker's word, never because time passed:

- **Inside one fetch response** (the record is not the first of the records a fetch gave for
  the partition): aiokafka read those offsets in that response and skipped them itself, which
  it does only for control batches (transaction markers), aborted transactional batches and
  records removed by compaction. The broker holds no record there: accepted.
- **At the start of a fetch**: the consumer's position moved past records the processor never
  took. The broker's doing (a reset to the log start after ``OffsetOutOfRange``, when retention
  deleted them; a marker or compacted records just where the fetch began) or this worker's (a
  record dropped between the consumer and the processor, a seek elsewhere) cannot be told
  apart from the records, so nothing of that fetch is taken for the partition: it is read
  again from the expected offset (``seeks``, done by the consumer after the batch). A fetch
  from there is the broker's answer: the gap is accepted when two such answers in a row begin
  at the same offset; after ``MAX_REFETCHES`` reads from the expected offset without that,
  ``GapNotFilled`` stops the worker (``streams.failstop``).

After a revocation or a seek back to the committed offsets the processor forgets the partition
and takes its next record whatever its offset: no gap is seen then (a record before the one
expected is one taken already, and skipped).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from cjo import logs
from cjo.errors import CjoError

log = logs.get("cjo.processor")

MAX_REFETCHES = 4  # reads from the expected offset before the worker stops


class GapNotFilled(CjoError):
    """The broker keeps answering a read from an offset with records past it, inconsistently."""


@dataclass
class _Refetch:
    expected: int
    reads: int = 0  # reads from ``expected`` asked for
    answer: int | None = None  # where the last read from ``expected`` began


class GapGuard:
    """Decides each gap of one consumer's partitions; ``seeks`` says where to read again."""

    def __init__(self, max_refetches: int = MAX_REFETCHES) -> None:
        self.max_refetches = max_refetches
        self._refetching: dict[Hashable, _Refetch] = {}
        self._seeks: dict[Hashable, int] = {}

    def accept(self, tp: Any, expected: int, offset: int, first_of_fetch: bool) -> bool:
        """A record at ``offset`` came when ``expected`` was due: True, take it (the offsets
        between hold no record); False, take nothing more of the partition from this fetch:
        it is read again from ``expected``. Raises ``GapNotFilled`` when the broker keeps
        answering otherwise."""
        where = {"topic": tp.topic, "partition": tp.partition, "start": expected, "end": offset}
        if not first_of_fetch:
            log.debug("offsets_absent", **where, seen="inside one fetch response")
            return True
        state = self._refetching.get(tp)
        if state is None or state.expected != expected:
            state = self._refetching[tp] = _Refetch(expected)
        elif state.reads:  # this fetch began at ``expected``: the broker's answer
            if state.answer == offset:
                del self._refetching[tp]
                log.info("offsets_absent", **where, seen="two reads from the start")
                return True
            if state.reads >= self.max_refetches:
                del self._refetching[tp]
                raise GapNotFilled(
                    f"{tp.topic}[{tp.partition}]: offsets {expected}..{offset - 1} were not "
                    f"returned by {state.reads} reads from {expected}")
            state.answer = offset
        state.reads += 1
        self._seeks[tp] = expected
        log.warning("offset_gap", **where, reads=state.reads)
        return False

    def seeks(self) -> dict[Any, int]:
        """Partitions to read again, and from where (once: cleared here)."""
        seeks, self._seeks = self._seeks, {}
        return seeks
