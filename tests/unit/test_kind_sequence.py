import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.factories import charging, drive, profile, trigger, usage

DAY = 86_400_000


def app(at: int, category: str) -> tuple[str, dict[str, Any]]:
    return ("usage", {**usage(at), "event_id": f"u-{at}-{category}", "app_category": category})


TRIAL_THEN_GAMING = trigger("sequence", {"within": "14d", "steps": [
    {"event": "trial_started"},
    {"event": "usage", "where": {"app_category": "GAMING"}, "count": 3}]})


def trial(at: int) -> tuple[str, dict[str, Any]]:
    return ("subscribers", profile(at=at, trials=[
        {"product_id": "gaming_1d", "expires_at": at + DAY, "status": "ACTIVE"}]))


def test_steps_in_order_fire_on_the_fact_completing_the_last() -> None:
    records = [app(1, "GAMING"), trial(10), app(20, "GAMING"), app(30, "VIDEO"),
               app(40, "GAMING"), app(50, "GAMING"), app(60, "GAMING")]
    [moment] = drive(TRIAL_THEN_GAMING, records)
    assert (moment.instance, moment.event_time, moment.event_id) == ("50", 50, "u-50-GAMING")
    # one count per step (a trial, then three games), never their sum
    assert moment.attrs == {"step1_count": 1, "step2_count": 3, "window_days": 14}


def test_out_of_order_steps_do_not_fire() -> None:
    records = [app(1, "GAMING"), app(2, "GAMING"), app(3, "GAMING"), trial(10)]
    assert drive(TRIAL_THEN_GAMING, records) == []


def test_all_within_the_window_of_the_first_counted_fact() -> None:
    late = [trial(0), app(DAY, "GAMING"), app(2 * DAY, "GAMING"), app(15 * DAY, "GAMING")]
    assert drive(TRIAL_THEN_GAMING, late) == []
    # a new trial restarts the window
    again = [*late, trial(16 * DAY), app(17 * DAY, "GAMING"), app(17 * DAY + 1, "GAMING"),
             app(17 * DAY + 2, "GAMING")]
    assert [m.event_time for m in drive(TRIAL_THEN_GAMING, again)] == [17 * DAY + 2]


def test_re_arms_after_firing() -> None:
    seq = trigger("sequence", {"within": "1h", "steps": [
        {"event": "charging"}, {"event": "topup"}]})
    records = [("charging", charging("23415", 1, balance=1.0)),
               ("charging", charging("23415", 2, balance=5.0)),  # charging + topup: fires
               ("charging", charging("23415", 3, balance=9.0)),  # a new charging then topup
               ("charging", charging("23415", 4, balance=8.0))]
    assert [m.event_time for m in drive(seq, records)] == [2, 3]


def test_one_fact_counts_once_even_when_it_matches_two_steps() -> None:
    seq = trigger("sequence", {"within": "1h", "steps": [
        {"event": "usage", "count": 2}, {"event": "usage", "where": {"app_category": "GAMING"}}]})
    assert drive(seq, [app(1, "GAMING"), app(2, "GAMING")]) == []
    assert [m.event_time for m in drive(seq, [app(1, "VIDEO"), app(2, "GAMING"),
                                             app(3, "GAMING")])] == [3]


def test_a_late_fact_after_its_partial_still_counts() -> None:
    seq = trigger("sequence", {"within": "1h", "steps": [{"event": "usage"},
                                                         {"event": "charging"}]})
    records = [app(10, "VIDEO"), app(100, "VIDEO"), ("charging", charging("23415", 50))]
    assert [m.event_time for m in drive(seq, records)] == [50]


def oracle(facts: list[tuple[int, str]], steps: list[tuple[str, int]], within: int) -> list[int]:
    """Brute force over index sets: since the last moment, a chain of positions in order,
    ending with the newest fact, spanning at most ``within``."""
    positions = [name for name, count in steps for _ in range(count)]
    fired: list[int] = []
    since = 0
    for i, (t, name) in enumerate(facts):
        if name != positions[-1]:
            continue
        earlier = range(since, i)
        for chosen in itertools.combinations(earlier, len(positions) - 1):
            chain = [*chosen, i]
            if all(facts[j][1] == p for j, p in zip(chain, positions, strict=True)) and (
                    t - facts[chain[0]][0] <= within):
                fired.append(t)
                since = i + 1
                break
    return fired


@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["VIDEO", "GAMING", "WEB"])),
                max_size=12),
       st.lists(st.tuples(st.sampled_from(["VIDEO", "GAMING", "WEB"]), st.integers(1, 2)),
                min_size=2, max_size=3),
       st.integers(1, 100))
def test_in_order_facts_fire_exactly_as_the_brute_force_oracle(
        gaps: list[tuple[int, str]], steps: list[tuple[str, int]], within: int) -> None:
    facts, at = [], 0
    for gap, category in gaps:
        at += gap
        facts.append((at, category))
    seq = trigger("sequence", {"within": within, "steps": [
        {"event": "usage", "where": {"app_category": c}, "count": n} for c, n in steps]})
    records = [("usage", {**usage(t), "event_id": f"u{i}", "app_category": c})
               for i, (t, c) in enumerate(facts)]
    assert [m.event_time for m in drive(seq, records)] == oracle(facts, steps, within)
