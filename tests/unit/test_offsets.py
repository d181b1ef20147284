"""OffsetTracker: an offset is committable only once it and every earlier one is processed and
what it caused is delivered."""

from __future__ import annotations

import pytest

from streams.offsets import OffsetTracker


class Write:
    def __init__(self, done: bool = False, error: Exception | None = None) -> None:
        self._done, self._error = done, error

    def done(self) -> bool:
        return self._done

    def result(self) -> object:
        if self._error is not None:
            raise self._error
        return None


def test_committable_after_processed_and_delivered() -> None:
    tracker = OffsetTracker()
    for offset in range(5):
        tracker.take("a", offset)
    write = Write()
    tracker.processed([("a", 0), ("a", 1)], [write])
    assert tracker.committable() == {}  # processed, not delivered
    write._done = True
    assert tracker.committable() == {"a": 2}
    assert tracker.pending("a") == 3


def test_a_record_waiting_holds_back_only_its_partition() -> None:
    tracker = OffsetTracker()
    for tp in ("a", "b"):
        for offset in range(3):
            tracker.take(tp, offset)
    # a1 still waits (in the event-time merge); a2 and all of b are done
    tracker.processed([("a", 0), ("a", 2), ("b", 0), ("b", 1), ("b", 2)], [Write(done=True)])
    assert tracker.committable() == {"a": 1, "b": 3}
    tracker.processed([("a", 1)], [])
    assert tracker.committable() == {"a": 3, "b": 3}


def test_a_failed_delivery_raises_instead_of_committing() -> None:
    tracker = OffsetTracker()
    tracker.take("a", 7)
    tracker.processed([("a", 7)], [Write(done=True, error=RuntimeError("broker said no"))])
    with pytest.raises(RuntimeError, match="broker said no"):
        tracker.advance()


def test_forget_drops_revoked_partitions() -> None:
    tracker = OffsetTracker()
    tracker.take("a", 0)
    tracker.take("b", 0)
    tracker.processed([("a", 0), ("b", 0)], [Write(done=True)])
    tracker.take("a", 1)
    assert tracker.forget(keep=["b"]) == 2  # a0 (not yet advanced past) and a1
    assert tracker.committable() == {"b": 1}
    assert tracker.pending() == 0
