"""A matcher's ``where``: equality, lists, ranges and sets (cjo.catalogue.where), as the kinds
match facts and as validation refuses what cannot match, at its file, line and field."""

from __future__ import annotations

from typing import Any

import pytest

from cjo.catalogue.model import Matcher
from cjo.catalogue.validate import load_catalogue
from cjo.errors import CatalogueError, CatalogueRejected
from cjo.triggers.facts import matches
from cjo.triggers.kinds.base import Fact
from tests.unit.factories import drive, trigger, usage


def fact(**fields: Any) -> Fact:
    return Fact("usage", 1, "u-1", fields)


def accepted(where: dict[str, Any], values: list[Any], field: str = "x") -> list[Any]:
    matcher = Matcher(event="usage", where=where)
    return [v for v in values if matches(matcher, fact(**{field: v}))]


def test_ranges_bound_numbers_open_or_closed() -> None:
    numbers = [9, 9.99, 10, 10.0, 15, 19.99, 20, 21]
    assert accepted({"x": {"gte": 10, "lt": 20}}, numbers) == [10, 10.0, 15, 19.99]
    assert accepted({"x": {"gt": 10, "lte": 20}}, numbers) == [15, 19.99, 20]
    assert accepted({"x": {"gt": 20}}, numbers) == [21]
    assert accepted({"x": {"lt": 10}}, numbers) == [9, 9.99]


def test_a_range_never_matches_text_booleans_or_nothing() -> None:
    assert accepted({"x": {"gte": 0}}, ["5", True, False, None, 0]) == [0]
    assert not matches(Matcher(event="usage", where={"x": {"gte": 0}}), fact(y=1))


def test_in_and_not_in_compare_like_equality() -> None:
    values = ["VIDEO", "MUSIC", "WEB", 1, True, None]
    assert accepted({"x": {"in": ["VIDEO", "MUSIC"]}}, values) == ["VIDEO", "MUSIC"]
    assert accepted({"x": ["VIDEO", "MUSIC"]}, values) == ["VIDEO", "MUSIC"]
    # not_in: present and none of them (a missing or null field never matches)
    assert accepted({"x": {"not_in": ["VIDEO", "MUSIC"]}}, values) == ["WEB", 1, True]
    assert accepted({"x": {"in": [1]}}, [1, 1.0, True]) == [1, 1.0]  # true is not 1
    assert not matches(Matcher(event="usage", where={"x": {"not_in": ["A"]}}), fact(y="B"))


def test_parts_of_a_condition_all_hold_and_so_do_all_fields() -> None:
    assert accepted({"x": {"gte": 1, "lte": 5, "not_in": [3]}}, [0, 1, 3, 5, 6]) == [1, 5]
    both = Matcher(event="usage", where={"app_category": {"in": ["VIDEO"]},
                                         "bytes_downlink": {"gte": 1_000_000}})
    assert matches(both, fact(app_category="VIDEO", bytes_downlink=2_000_000))
    assert not matches(both, fact(app_category="VIDEO", bytes_downlink=10))
    assert not matches(both, fact(app_category="WEB", bytes_downlink=2_000_000))


def test_a_count_of_big_video_sessions() -> None:
    trg = trigger("count", {"match": {"event": "usage", "where": {
        "app_category": {"in": ["VIDEO", "SOCIAL"]}, "bytes_downlink": {"gte": 500}}},
        "count": 2, "within": "1h"})

    def session(at: int, category: str, down: int) -> tuple[str, dict[str, Any]]:
        return ("usage", {**usage(at), "app_category": category, "bytes_downlink": down})

    records = [session(1, "VIDEO", 499), session(2, "WEB", 900), session(3, "VIDEO", 500),
               session(4, "MUSIC", 10_000), session(5, "SOCIAL", 501)]
    [moment] = drive(trg, records)
    assert moment.event_time == 5


# -- validation ------------------------------------------------------------------------------------


def _count(where: str) -> str:
    return ("triggers:\n"
            "  - id: t1\n"
            "    kind: count\n"
            "    params:\n"
            f"      match: {{event: usage, where: {where}}}\n"   # line 5
            "      count: 2\n"
            "      within: 1h\n"
            "    offers:\n"
            "      - code: A\n"
            "        templates: {en: hi}\n")


def _problems(where: str) -> list[CatalogueError]:
    with pytest.raises(CatalogueRejected) as caught:
        load_catalogue([("c.yaml", _count(where))])
    return caught.value.problems


@pytest.mark.parametrize(("where", "field", "reason"), [
    ("{bytes_downlink: {gtee: 5}}", "bytes_downlink",
     "unknown operator 'gtee' (known: gt, gte, lt, lte, in, not_in)"),
    ("{bytes_downlink: {}}", "bytes_downlink", "give at least one of: gt, gte, lt, lte, in"),
    ("{bytes_downlink: {gte: 20, lt: 10}}", "bytes_downlink", "the range is empty"),
    ("{bytes_downlink: {gt: 1, gte: 2}}", "bytes_downlink", "give gt or gte, not both"),
    ("{bytes_downlink: {gte: lots}}", "bytes_downlink", "gte: expected a number, got 'lots'"),
    ("{bytes_downlink: {in: []}}", "bytes_downlink",
     "in: expected at least one value, got an empty list"),
    ("{dropped: null}", "dropped", "expected text, a number, true/false, a list of them or a "
                                   "condition such as {gte: 10, lt: 20}"),
    ("{app_id: {gte: 5}}", "app_id", "a range (gt, gte, lt, lte) needs a number field, "
                                     "this one is string"),
    ("{app_category: {in: [VIDEO, FILMS]}}", "app_category", "expected one of: VIDEO"),
    ("{app_category: {not_in: [GAMES]}}", "app_category", "expected one of: VIDEO"),
    ("{dropped: {in: [1]}}", "dropped", "expected true or false, got 1"),
])
def test_a_condition_that_cannot_match_is_refused_at_its_line_and_field(
        where: str, field: str, reason: str) -> None:
    [problem] = _problems(where)
    assert (problem.file, problem.line) == ("c.yaml", 5)
    assert problem.field == f"triggers[0] (t1).params.match.where.{field}"
    assert problem.reason.startswith(reason), problem.reason


def test_good_conditions_load_and_show_in_the_diff_as_written() -> None:
    where = "{bytes_downlink: {gte: 10, lt: 20}, app_category: {in: [VIDEO]}, throughput_kbps: " \
            "{lt: 100}, app_id: {not_in: [yt]}}"
    catalogue = load_catalogue([("c.yaml", _count(where))])
    params: Any = catalogue.triggers[0].params
    dumped = params.match.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped["where"]["app_category"] == {"in": ["VIDEO"]}
