import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cjo.catalogue.model import ThresholdParams
from cjo.state import SubscriberState
from cjo.triggers.kinds.threshold import measure, period_key
from tests.unit.factories import charging, drive, trigger

GB = 1_000_000_000
HOUR = 3_600_000


def ms(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, tzinfo=dt.UTC).timestamp() * 1000)


def bundle(at: int, remaining: int | None, total: int | None = 10 * GB,
           bundle_id: str = "ADDON_10GB") -> tuple[str, dict[str, Any]]:
    return ("charging", charging("23415", at, bundle_id=bundle_id, bundle_total_octets=total,
                                 bundle_remaining_octets=remaining))


def balance(at: int, value: float) -> tuple[str, dict[str, Any]]:
    return ("charging", charging("23415", at, balance=value, currency="GBP"))


USED_80 = trigger("threshold", {"measure": "bundle_used_pct", "above": 80})


def test_bundle_used_crossing_fires_once_with_attrs() -> None:
    t = ms(2026, 1, 10)
    moments = drive(USED_80, [bundle(t, 5 * GB), bundle(t + 1, 2 * GB), bundle(t + 2, 1 * GB)])
    [moment] = moments
    assert (moment.instance, moment.event_time) == ("m-2026-01", t + 1)
    assert moment.attrs == {"measure": "bundle_used_pct", "value": "80", "bound": "80",
                            "bundle_id": "ADDON_10GB", "currency": ""}


def test_first_known_measure_past_the_bound_is_a_crossing() -> None:
    [moment] = drive(USED_80, [bundle(ms(2026, 1, 10), 1 * GB)])
    assert moment.attrs["value"] == "90"


def test_once_per_month_even_after_falling_back_and_crossing_again() -> None:
    t = ms(2026, 1, 10)
    records = [bundle(t, 1 * GB), bundle(t + 1, 9 * GB, bundle_id="NEW"),
               bundle(t + 2, 1 * GB, bundle_id="NEW"), bundle(ms(2026, 2, 1), 9 * GB),
               bundle(ms(2026, 2, 2), 1 * GB)]
    assert [m.instance for m in drive(USED_80, records)] == ["m-2026-01", "m-2026-02"]


def test_period_bundle_re_arms_for_a_new_bundle() -> None:
    per_bundle = trigger("threshold", {"measure": "bundle_used_pct", "above": 80,
                                       "period": "bundle"})
    t = ms(2026, 1, 10)
    records = [bundle(t, 1 * GB), bundle(t + 1, 0), bundle(t + 2, 9 * GB, bundle_id="NEW"),
               bundle(t + 3, 1 * GB, bundle_id="NEW")]
    assert [m.instance for m in drive(per_bundle, records)] == [
        f"b-ADDON_10GB-{10 * GB}", f"b-NEW-{10 * GB}"]


def test_balance_below_from_above() -> None:
    low = trigger("threshold", {"measure": "balance", "below": 2, "period": "day"})
    t = ms(2026, 1, 10, 9)
    moments = drive(low, [balance(t, 10), balance(t + 1, 2.0), balance(t + 2, 1),
                          balance(t + 3, 10), balance(t + 4, 1), balance(t + 24 * HOUR, 0.5),
                          balance(t + 25 * HOUR, 5), balance(t + 26 * HOUR, 1.5)])
    assert [(m.instance, m.attrs["value"]) for m in moments] == [
        ("d-2026-01-10", "2.00"), ("d-2026-01-11", "1.50")]
    assert moments[0].attrs["currency"] == "GBP"


def test_remaining_pct_below() -> None:
    left = trigger("threshold", {"measure": "bundle_remaining_pct", "below": 10})
    [moment] = drive(left, [bundle(ms(2026, 3, 3), 5 * GB), bundle(ms(2026, 3, 4), GB // 2)])
    assert moment.attrs["value"] == "5" and moment.instance == "m-2026-03"


def test_unknown_measures_never_fire_nor_crash() -> None:
    t = ms(2026, 1, 10)
    records = [bundle(t, None), bundle(t + 1, 5, total=0), bundle(t + 2, 5, total=None),
               balance(t + 3, 3)]
    assert drive(USED_80, records) == []


def test_pace_waits_for_min_cycle_elapsed_then_compares_used_to_elapsed() -> None:
    pace = trigger("threshold", {"measure": "bundle_pace_pct", "above": 150,
                                 "min_cycle_elapsed": "3d"})
    # 2 Jan: 90% used in 1/31 of the month, but too early in the cycle
    assert drive(pace, [bundle(ms(2026, 1, 2), 1 * GB)]) == []
    # 11 Jan 00:00: 10/31 of January gone; 50% used is 155% of pace
    [moment] = drive(pace, [bundle(ms(2026, 1, 11), 5 * GB)])
    assert moment.attrs["value"] == "155"
    # 40% used is 124%: no
    assert drive(pace, [bundle(ms(2026, 1, 11), 6 * GB)]) == []


def test_measure_and_period_key_directly() -> None:
    state = SubscriberState(imsi="1", bundle={"id": "B", "total": 200, "remaining": 50, "at": 0})
    used = ThresholdParams.model_validate({"measure": "bundle_used_pct", "above": 1})
    left = ThresholdParams.model_validate({"measure": "bundle_remaining_pct", "above": 1})
    assert measure(used, state) == 75
    assert measure(left, state) == 25
    assert period_key("week", ms(2026, 1, 1), None) == "w-2026-W01"
    assert period_key("week", ms(2027, 1, 1), None) == "w-2026-W53"
    assert period_key("day", ms(2026, 2, 28, 23), None) == "d-2026-02-28"
    assert period_key("bundle", 0, {"id": "B", "total": 200}) == "b-B-200"


@given(st.lists(st.tuples(st.integers(0, 3 * 24), st.integers(0, 100)), max_size=40),
       st.sampled_from(["day", "week", "month"]), st.booleans())
def test_at_most_one_moment_per_period_and_only_on_a_crossing(
        steps: list[tuple[int, int]], period: str, above: bool) -> None:
    bound = {"above": 80} if above else {"below": 20}
    trg = trigger("threshold", {"measure": "bundle_used_pct", "period": period, **bound})
    start, at, records = ms(2026, 1, 30), 0, []
    used_at: dict[int, tuple[int | None, int]] = {}  # event time -> (used before, used after)
    previous: int | None = None
    for gap_hours, used in steps:
        at += gap_hours * HOUR + 1
        records.append(bundle(start + at, (100 - used) * GB // 10, total=10 * GB))
        used_at[start + at] = (previous, used)
        previous = used
    moments = drive(trg, records)
    instances = [m.instance for m in moments]
    assert len(instances) == len(set(instances))

    def past(value: int) -> bool:
        return value >= 80 if above else value <= 20

    for moment in moments:
        before, after = used_at[moment.event_time]
        assert past(after) and (before is None or not past(before))
        assert moment.instance == period_key(period, moment.event_time, None)
    # and every period with a crossing has its moment
    crossing_periods = {period_key(period, w, None) for w, (b, a) in used_at.items()
                        if past(a) and (b is None or not past(b))}
    assert set(instances) == crossing_periods
