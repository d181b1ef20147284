from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.factories import drive, trigger, usage

HOUR = 3_600_000


def dropped(at: int, is_dropped: bool = True) -> tuple[str, dict[str, Any]]:
    return ("usage", {**usage(at), "event_id": f"u-{at}-{is_dropped}", "dropped": is_dropped})


def three_drops(within: str = "1h") -> Any:
    return trigger("count", {"match": {"event": "usage", "where": {"dropped": True}},
                             "count": 3, "within": within})


def test_fires_on_the_third_match_within_the_window_then_re_arms() -> None:
    records = [dropped(0), dropped(10), dropped(15, False), dropped(20), dropped(30),
               dropped(40), dropped(50)]
    moments = drive(three_drops(), records)
    assert [(m.instance, m.event_time, m.event_id) for m in moments] == [
        ("20", 20, "u-20-True"), ("50", 50, "u-50-True")]
    assert moments[0].attrs == {"count": 3, "window": "1h"}


def test_facts_outside_the_window_do_not_count() -> None:
    records = [dropped(0), dropped(HOUR), dropped(HOUR + 1), dropped(2 * HOUR + 2)]
    assert [m.event_time for m in drive(three_drops(), records)] == []
    records = [dropped(0), dropped(HOUR), dropped(HOUR)]  # inclusive: exactly one hour apart
    assert [m.event_time for m in drive(three_drops(), records)] == [HOUR]


def test_a_late_fact_within_the_window_counts() -> None:
    records = [dropped(100), dropped(200), dropped(150)]
    [moment] = drive(three_drops(), records)
    assert moment.instance == "150"
    # too late to share a window with the newest: dropped
    assert drive(three_drops(), [dropped(2 * HOUR), dropped(2 * HOUR + 1), dropped(5)]) == []


def test_window_formatting() -> None:
    assert drive(three_drops("90m"), [dropped(0), dropped(1), dropped(2)])[0].attrs == {
        "count": 3, "window": "90m"}


def oracle(times: list[int], count: int, within: int) -> list[int]:
    """Brute force: since the last moment, the facts within ``within`` before the newest."""
    fired: list[int] = []
    since = 0
    for i, t in enumerate(times):
        window = [u for u in times[since:i + 1] if t - u <= within]
        if len(window) >= count:
            fired.append(t)
            since = i + 1
    return fired


@given(st.lists(st.integers(0, 50), max_size=60), st.integers(2, 5), st.integers(1, 120))
def test_fires_exactly_when_a_sliding_window_holds_count_facts(
        gaps: list[int], count: int, within: int) -> None:
    times, at = [], 1_000
    for gap in gaps:
        at += gap
        times.append(at)
    trg = trigger("count", {"match": {"event": "usage"}, "count": count, "within": within})
    records = [("usage", {**usage(t), "event_id": f"u{i}"}) for i, t in enumerate(times)]
    assert [m.event_time for m in drive(trg, records)] == oracle(times, count, within)


@given(st.lists(st.integers(0, 10_000), max_size=60))
def test_memory_stays_below_count(times: list[int]) -> None:
    from cjo.state import SubscriberState
    from cjo.triggers.kinds import KINDS
    from tests.unit.factories import IMSI, observe

    trg = trigger("count", {"match": {"event": "usage"}, "count": 4, "within": 500})
    state = SubscriberState(imsi=IMSI)
    memory: dict[str, Any] = {}
    for i, t in enumerate(times):
        obs = observe(state, "usage", {**usage(t), "event_id": f"u{i}"})
        state = obs.after
        detection = KINDS["count"].on_event(trg, obs, memory, {})
        memory = detection.memory if detection.memory is not None else memory
        assert len(memory.get("at", [])) <= 3
