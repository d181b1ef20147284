"""threshold on usage_bytes: "more than 2 GB of video today" (cjo.triggers.kinds.usage)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cjo.catalogue.validate import load_catalogue
from cjo.errors import CatalogueRejected
from cjo.triggers.kinds import KINDS
from cjo.triggers.kinds.usage import format_size
from tests.unit.factories import charging, drive, trigger, usage

GB = 1_000_000_000
HOUR = 3_600_000
DAY0 = int(dt.datetime(2026, 1, 10, tzinfo=dt.UTC).timestamp() * 1000)

VIDEO_2GB_TODAY = trigger("threshold", {"measure": "usage_bytes", "above": "2GB",
                                        "period": "day", "where": {"app_category": "VIDEO"}})


def session(at: int, down: int, category: str = "VIDEO", app: str = "youtube",
            up: int = 0) -> tuple[str, dict[str, Any]]:
    return ("usage", {**usage(at), "event_id": f"u-{at}", "app_id": app,
                      "app_category": category, "bytes_downlink": down, "bytes_uplink": up})


def test_the_session_taking_the_day_past_the_bound_fires_with_the_total() -> None:
    records = [session(DAY0 + HOUR, GB), session(DAY0 + 2 * HOUR, 3 * GB, category="GAMING"),
               session(DAY0 + 3 * HOUR, 900_000_000, app="netflix", up=50_000_000),
               session(DAY0 + 4 * HOUR, 100_000_000, app="netflix"),  # 2.05 GB
               session(DAY0 + 5 * HOUR, GB)]
    [moment] = drive(VIDEO_2GB_TODAY, records)
    assert (moment.instance, moment.event_time, moment.event_id) == (
        "d-2026-01-10", DAY0 + 4 * HOUR, f"u-{DAY0 + 4 * HOUR}")
    assert moment.attrs == {"measure": "usage_bytes", "value": "2 GB", "bound": "2 GB",
                            "app_id": "netflix", "app_category": "VIDEO"}


def test_each_day_counts_afresh_and_a_late_record_of_a_past_day_is_not_counted() -> None:
    tomorrow = DAY0 + 24 * HOUR
    records = [session(DAY0 + HOUR, 1_500_000_000),
               session(tomorrow + HOUR, 1_500_000_000),
               session(DAY0 + 23 * HOUR, GB),  # late, of a day already left
               session(tomorrow + 2 * HOUR, 400_000_000),
               session(tomorrow + 3 * HOUR, 100_000_000)]
    [moment] = drive(VIDEO_2GB_TODAY, records)
    assert (moment.instance, moment.event_time) == ("d-2026-01-11", tomorrow + 3 * HOUR)


def test_once_a_day_and_again_the_next_day() -> None:
    records = [session(DAY0 + h * HOUR, GB) for h in range(6)]
    records += [session(DAY0 + 24 * HOUR + h * HOUR, GB) for h in range(3)]
    assert [m.instance for m in drive(VIDEO_2GB_TODAY, records)] == [
        "d-2026-01-10", "d-2026-01-11"]


@given(st.lists(st.tuples(st.integers(0, 47), st.integers(0, 900_000_000),
                          st.sampled_from(["VIDEO", "WEB"])), max_size=30))
def test_fires_exactly_on_the_days_the_matching_total_reaches_the_bound(
        sessions: list[tuple[int, int, str]]) -> None:
    sessions.sort(key=lambda s: s[0])
    records = [session(DAY0 + hour * HOUR + i, down, category)
               for i, (hour, down, category) in enumerate(sessions)]
    totals: dict[int, int] = {}
    expected = []
    for hour, down, category in sessions:
        if category != "VIDEO":
            continue
        before = totals.get(hour // 24, 0)
        totals[hour // 24] = before + down
        if before < 2 * GB <= before + down:
            expected.append(f"d-2026-01-{10 + hour // 24}")
    assert [m.instance for m in drive(VIDEO_2GB_TODAY, records)] == expected


def test_only_usage_records_reach_it_and_other_thresholds_never_see_them() -> None:
    reads = KINDS["threshold"].reads
    assert reads(VIDEO_2GB_TODAY.params, "usage")
    assert not reads(VIDEO_2GB_TODAY.params, "charging")
    balance = trigger("threshold", {"measure": "balance", "below": 2})
    assert not reads(balance.params, "usage") and reads(balance.params, "charging")
    # a charging record never counts as usage
    moments = drive(VIDEO_2GB_TODAY, [("charging", charging("23415", DAY0, balance=3.0))])
    assert moments == []


def test_sizes_read_and_show_in_decimal_units_never_rounded_up() -> None:
    sized = trigger("threshold", {"measure": "usage_bytes", "above": "500 mb"})
    assert sized.params.above == 500_000_000
    assert trigger("threshold", {"measure": "usage_bytes", "above": 1234}).params.above == 1234
    assert [format_size(n) for n in (2 * GB, 2_099_999_999, 2_150_000_000, 500_000_000,
                                     999, 1_500)] == [
        "2 GB", "2 GB", "2.1 GB", "500 MB", "999 B", "1.5 KB"]


def _threshold(params: str) -> str:
    return ("triggers:\n"
            "  - id: t1\n"
            "    kind: threshold\n"
            f"    params: {params}\n"   # line 4
            "    offers:\n"
            "      - code: A\n"
            "        templates: {en: \"$value of $app_category today\"}\n")


@pytest.mark.parametrize(("params", "field", "reason"), [
    ("{measure: usage_bytes, above: 2GiB}", "params.above",
     "expected a size such as 500MB or 2GB, got '2GiB'"),
    ("{measure: usage_bytes, below: 2GB, period: day}", "params",
     "usage_bytes only grows within a period: give above, not below"),
    ("{measure: usage_bytes, above: 2GB, period: bundle}", "params",
     "usage_bytes is counted per day, week or month, not per bundle"),
    ("{measure: balance, below: 2, where: {app_id: yt}}", "params",
     "where selects usage records: only for measure usage_bytes"),
    ("{measure: usage_bytes, above: 2GB, where: {app_categry: VIDEO}}", "params.where.app_categry",
     "usage records have no field 'app_categry'"),
    ("{measure: usage_bytes, above: 2GB, where: {app_category: VIDOE}}",
     "params.where.app_category", "expected one of: VIDEO"),
])
def test_a_usage_threshold_that_cannot_work_is_refused_at_its_line_and_field(
        params: str, field: str, reason: str) -> None:
    with pytest.raises(CatalogueRejected) as caught:
        load_catalogue([("u.yaml", _threshold(params))])
    problems = [p for p in caught.value.problems if "placeholder" not in p.reason]
    [problem] = problems
    assert (problem.file, problem.line, problem.field) == ("u.yaml", 4, f"triggers[0] (t1).{field}")
    assert problem.reason.startswith(reason), problem.reason


def test_usage_placeholders_are_for_usage_thresholds_only() -> None:
    good = _threshold("{measure: usage_bytes, above: 2GB, period: day, "
                      "where: {app_category: {in: [VIDEO, SOCIAL]}}}")
    [loaded] = load_catalogue([("u.yaml", good)]).triggers
    assert loaded.params.above == 2 * GB  # type: ignore[union-attr]
    with pytest.raises(CatalogueRejected) as caught:
        load_catalogue([("u.yaml", _threshold("{measure: balance, below: 2}"))])
    assert caught.value.problems[0].reason.startswith("unknown placeholder $app_category")
