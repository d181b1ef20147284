from hypothesis import given
from hypothesis import strategies as st

from cjo.engine.ordering import STREAM_RANK, EventTimeMerger

TOPICS = {"charging": STREAM_RANK["charging"], "location": STREAM_RANK["location"],
          "subscribers": STREAM_RANK["subscribers"]}


def merger(**kw: int) -> EventTimeMerger[str]:
    return EventTimeMerger(TOPICS, **kw)


def test_waits_for_a_topic_that_is_not_caught_up() -> None:
    m = merger()
    m.push(0, "charging", 200, 0, "c200")
    assert list(m.release(0, caught_up=lambda t: t != "location", now_ms=0)) == []
    m.push(0, "location", 100, 0, "l100")
    assert list(m.release(0, caught_up=lambda t: t != "location", now_ms=0)) == ["l100"]
    # location's queue is empty again and it is not caught up: c200 keeps waiting
    assert m.buffered(0) == 1


def test_releases_in_event_time_order_across_topics() -> None:
    m = merger()
    for topic, t in [("charging", 30), ("charging", 40), ("location", 10), ("location", 35),
                     ("subscribers", 30)]:
        m.push(0, topic, t, 0, f"{topic[0]}{t}")
    out = list(m.release(0, caught_up=lambda t: True, now_ms=0))
    assert out == ["l10", "s30", "c30", "l35", "c40"]  # profile first at equal time


def test_never_reorders_within_one_topic() -> None:
    m = merger()
    m.push(0, "location", 50, 0, "first")
    m.push(0, "location", 20, 0, "second")  # late inside its topic: stays behind
    assert list(m.release(0, caught_up=lambda t: True, now_ms=0)) == ["first", "second"]


def test_wait_for_a_topic_of_unknown_position_is_bounded_by_wall_time() -> None:
    m = merger(max_idle_ms=1000)
    m.push(0, "charging", 5, arrived_ms=0, item="c5")
    assert list(m.release(0, caught_up=lambda t: None, now_ms=999)) == []
    assert list(m.release(0, caught_up=lambda t: None, now_ms=1000)) == ["c5"]
    assert m.forced == 1


def test_a_topic_known_to_lag_is_waited_for_however_long() -> None:
    m = merger(max_idle_ms=1000)
    m.push(0, "charging", 5, arrived_ms=0, item="c5")
    assert list(m.release(0, caught_up=lambda t: t == "subscribers", now_ms=10**9)) == []


def test_buffer_is_bounded() -> None:
    m = merger(max_buffered=3)
    for i in range(3):
        m.push(0, "charging", i, 0, f"c{i}")
    assert list(m.release(0, caught_up=lambda t: False, now_ms=0)) == ["c0"]


def test_partitions_are_independent_and_droppable() -> None:
    m = merger()
    m.push(0, "charging", 1, 0, "p0")
    m.push(1, "charging", 1, 0, "p1")
    assert m.drop(1) == ["p1"] and m.buffered() == 1
    assert list(m.release(1, caught_up=lambda t: True, now_ms=0)) == []


@given(st.lists(st.tuples(st.sampled_from(sorted(TOPICS)), st.integers(0, 1000)), max_size=60))
def test_merge_of_ordered_topics_is_sorted_and_loses_nothing(pushes) -> None:
    m = merger()
    per_topic: dict[str, list[int]] = {}
    for topic, _ in pushes:
        per_topic.setdefault(topic, [])
    items = []
    for topic, t in sorted(pushes, key=lambda p: p[1]):  # each topic in event-time order
        m.push(0, topic, t, 0, (t, TOPICS[topic], topic))
        items.append((t, TOPICS[topic], topic))
    out = list(m.release(0, caught_up=lambda t: True, now_ms=0))
    assert sorted(out) == sorted(items)
    assert [(t, r) for t, r, _ in out] == sorted((t, r) for t, r, _ in out)


def test_caught_up_counts_only_if_learnt_after_the_record_arrived() -> None:
    """A topic read to its end as of a fetch before the record arrived may since have got a
    record produced earlier (seen: a usage record applied before the charging record produced
    2 ms ahead of it): the record waits for a fresher end, or for max_idle_ms."""
    m: EventTimeMerger[str] = EventTimeMerger({"charging": 1, "usage": 3}, max_idle_ms=1_000)
    m.push(0, "usage", 100, 500, "u100")
    assert list(m.release(0, caught_up=lambda t: 400, now_ms=550)) == []
    assert list(m.release(0, caught_up=lambda t: 501, now_ms=560)) == ["u100"]
    m.push(0, "usage", 200, 600, "u200")
    assert list(m.release(0, caught_up=lambda t: 400, now_ms=1_599)) == []
    assert list(m.release(0, caught_up=lambda t: 400, now_ms=1_600)) == ["u200"]  # waited long
    assert m.forced == 1


def test_an_end_learnt_in_the_millisecond_the_record_arrived_does_not_count() -> None:
    """The fetch that brought a record also carries the other topics' ends, as of the same
    moment on the broker; the worker can take the record within the millisecond that fetch was
    read in. Seen on Apache Kafka under load: a fetch brought a partition's charging records
    while its location records, produced before them, were not appended yet (end 0, learnt in
    the millisecond the charging records were taken); the charging records went first, the
    location records were then older than what the state held, and trips were missed."""
    m: EventTimeMerger[str] = EventTimeMerger({"charging": 1, "location": 2}, max_idle_ms=5_000)
    m.push(0, "charging", 300, 1_000, "c300")
    assert list(m.release(0, caught_up=lambda t: 1_000, now_ms=1_000)) == []
    assert m.forced == 0
    # the next fetch brings the location records: merged in event-time order
    m.push(0, "location", 100, 1_030, "l100")
    m.push(0, "location", 200, 1_030, "l200")
    assert list(m.release(0, caught_up=lambda t: 1_030, now_ms=1_030)) == ["l100", "l200", "c300"]


def test_an_end_learnt_within_the_settle_margin_does_not_count() -> None:
    """Even a fetch after the record's own may be served before records produced earlier are
    appended (a broker appends a produce request's partitions one after another; under load a
    fetch 10 ms later still saw none of them): an end counts only if learnt more than
    ``settle_ms`` after the record arrived."""
    m: EventTimeMerger[str] = EventTimeMerger({"charging": 1, "location": 2}, max_idle_ms=5_000,
                                              settle_ms=50)
    m.push(0, "charging", 300, 1_000, "c300")
    assert list(m.release(0, caught_up=lambda t: 1_010, now_ms=1_010)) == []
    assert list(m.release(0, caught_up=lambda t: 1_050, now_ms=1_050)) == []
    assert list(m.release(0, caught_up=lambda t: 1_051, now_ms=1_051)) == ["c300"]
    assert m.forced == 0
