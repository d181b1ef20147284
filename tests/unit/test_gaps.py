"""The gap rule (``streams.gaps``): accepted on the broker's word, never because time passed."""

from __future__ import annotations

import pytest
from faust.types import TP

from streams.gaps import MAX_REFETCHES, GapGuard, GapNotFilled

TP0 = TP("in", 0)


def test_a_gap_inside_one_fetch_is_the_broker_s() -> None:
    gaps = GapGuard()
    assert gaps.accept(TP0, expected=10, offset=12, first_of_fetch=False)
    assert gaps.seeks() == {}


def test_a_gap_at_the_start_of_a_fetch_is_read_again() -> None:
    gaps = GapGuard()
    assert not gaps.accept(TP0, expected=10, offset=500, first_of_fetch=True)
    assert gaps.seeks() == {TP0: 10}
    assert gaps.seeks() == {}  # asked once


def test_accepted_when_two_reads_from_the_expected_offset_agree() -> None:
    gaps = GapGuard()
    assert not gaps.accept(TP0, 10, 500, True)  # seen: read again
    assert not gaps.accept(TP0, 10, 12, True)  # the first read from 10 begins at 12
    assert gaps.seeks() == {TP0: 10}
    assert gaps.accept(TP0, 10, 12, True)  # the second one too: 10 and 11 hold no record
    assert gaps.seeks() == {}


def test_a_read_that_comes_back_to_the_offset_ends_the_gap() -> None:
    gaps = GapGuard()
    assert not gaps.accept(TP0, 10, 500, True)
    # the read from 10 gave 10 (no gap: nothing asked); a later gap elsewhere starts afresh
    assert not gaps.accept(TP0, 40, 41, True)
    assert gaps.seeks() == {TP0: 40}


def test_the_worker_stops_when_the_broker_keeps_not_returning_them() -> None:
    gaps = GapGuard()
    assert not gaps.accept(TP0, 10, 500, True)
    for n in range(1, MAX_REFETCHES):
        assert not gaps.accept(TP0, 10, 500 + n, True)  # every read answers otherwise
    with pytest.raises(GapNotFilled, match=r"in\[0\]: offsets 10..504 were not returned"):
        gaps.accept(TP0, 10, 505, True)


def test_partitions_are_apart() -> None:
    gaps = GapGuard()
    assert not gaps.accept(TP0, 10, 12, True)
    assert not gaps.accept(TP("in", 1), 10, 12, True)
    assert gaps.seeks() == {TP0: 10, TP("in", 1): 10}
