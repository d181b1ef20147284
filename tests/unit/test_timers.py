"""Timer index keys sort by due time, and the watermark moves the way the docs say."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cjo.engine.runner import MemoryStore
from cjo.timers import TIMER_PREFIX, Timer, Watermark, due_bound, watermark_key

timers = st.builds(
    Timer,
    due=st.integers(0, 2**62),
    imsi=st.text("0123456789", min_size=5, max_size=15),
    trigger_id=st.from_regex(r"[a-z_]{1,20}", fullmatch=True),
    instance=st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]),
                     max_size=30),
)


@given(timers)
def test_key_round_trip(timer: Timer) -> None:
    assert Timer.from_key(timer.key()) == timer
    assert timer.key().startswith(TIMER_PREFIX)


@given(st.lists(timers, min_size=1, max_size=30), st.integers(0, 2**62))
def test_the_keys_below_the_bound_are_exactly_the_timers_due(batch: list[Timer], wm: int) -> None:
    store = MemoryStore()
    store.apply({t.key(): b"1" for t in batch})
    due = [Timer.from_key(k) for k in store.due_keys(due_bound(wm), 10_000)]
    assert sorted({t for t in batch if t.due <= wm}) == due
    assert [t.due for t in due] == sorted(t.due for t in due)


def test_memory_store_deletes_timers() -> None:
    store = MemoryStore()
    a, b = Timer(5, "1", "t", "a"), Timer(7, "1", "t", "b")
    store.apply({a.key(): b"1", b.key(): b"1"})
    store.apply({a.key(): None})
    assert store.due_keys(due_bound(10), 10) == [b.key()]
    assert store.due_keys(due_bound(10), 0) == []


def test_subscriber_and_watermark_keys_never_look_like_timers() -> None:
    assert not b"234150000000001".startswith(TIMER_PREFIX)
    assert not watermark_key(3).startswith(TIMER_PREFIX)
    assert watermark_key(3) != watermark_key(4)


def test_watermark_follows_event_time_less_lateness() -> None:
    wm = Watermark(allowed_lateness_ms=30, idle_grace_ms=10, live=False)
    assert wm.value() == -1
    wm.observe(1_000)
    wm.observe(900)  # a late record does not move it back
    assert wm.value() == 970
    wm.idle(10_000)  # replay: wall time never moves it
    assert wm.value() == 970


def test_live_watermark_advances_on_wall_time_when_idle() -> None:
    wm = Watermark(allowed_lateness_ms=30, idle_grace_ms=10, live=True)
    wm.observe(1_000)
    wm.idle(5_000)
    assert wm.value() == 4_990
    wm.observe(2_000)  # records older than the wall-time floor do not pull it back
    assert wm.value() == 4_990


def test_restored_watermark_is_never_gone_back_behind() -> None:
    wm = Watermark(allowed_lateness_ms=30, idle_grace_ms=10, live=False)
    wm.restore(5_000)
    assert wm.value() == 5_000
    wm.observe(100)
    assert wm.value() == 5_000
