"""cjo.report: the Newcombe interval, the uplift aggregation and rendering, and cjo explain."""

from __future__ import annotations

from typing import Any

import pytest

from cjo.catalogue.validate import default_catalogue
from cjo.report.explain import explain, top_features, utc
from cjo.report.uplift import Row, aggregate, newcombe, render, total, wilson

# Newcombe RG (1998), "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Stat Med 17:873-890, Table II, method 10 (score, no continuity
# correction), examples (a)-(h): (x1, n1, x2, n2) -> (difference, low, high).
TABLE_II = [
    ((56, 70, 48, 80), (0.2, 0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.6, 0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.5714, 0.0582, 0.8062)),
    ((5, 56, 0, 29), (0.0893, -0.0381, 0.1926)),
    ((0, 10, 0, 20), (0.0, -0.1611, 0.2775)),
    ((0, 10, 0, 10), (0.0, -0.2775, 0.2775)),
    ((10, 10, 0, 20), (1.0, 0.6791, 1.0)),
    ((10, 10, 0, 10), (1.0, 0.6075, 1.0)),
]


@pytest.mark.parametrize(("counts", "published"), TABLE_II)
def test_newcombe_matches_newcombe_1998_table_ii(
    counts: tuple[int, int, int, int], published: tuple[float, float, float]
) -> None:
    got = newcombe(*counts)
    assert got == pytest.approx(published, abs=1e-4)


def test_wilson_matches_newcombe_1998_single_proportion() -> None:
    # Newcombe (1998b), Table I, method 3: 81/263 -> 0.2553 to 0.3662; 0/20 -> 0 to 0.1611.
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson(0, 20) == pytest.approx((0.0, 0.1611), abs=1e-4)
    assert wilson(20, 20) == pytest.approx((0.8389, 1.0), abs=1e-4)


def test_newcombe_is_antisymmetric_and_within_bounds() -> None:
    d, low, high = newcombe(3, 40, 11, 35)
    d2, low2, high2 = newcombe(11, 35, 3, 40)
    assert (d, low, high) == pytest.approx((-d2, -high2, -low2))
    assert -1.0 <= low < d < high <= 1.0


def test_wilson_refuses_an_empty_group() -> None:
    with pytest.raises(ValueError, match="n must be > 0"):
        wilson(0, 0)


def _decision(n: int, outcome: str, trigger: str = "roaming_welcome", code: str = "ROAM_DAY",
              **extra: Any) -> dict[str, Any]:
    return {"decision_id": f"d{n}", "offer_id": f"o{n}", "imsi": "234150000000001",
            "trigger_id": trigger, "offer_code": code, "outcome": outcome, "reasons": [],
            "trigger_time": 1_767_600_000_000 + n, "published_at": 1_767_600_000_500 + n,
            **extra}


def _outcome(n: int, group: str, converted: bool, responded: bool = False,
             trigger: str = "roaming_welcome", code: str = "ROAM_DAY") -> dict[str, Any]:
    return {"offer_id": f"o{n}", "imsi": "234150000000001", "trigger_id": trigger,
            "offer_code": code, "group": group, "responded": responded, "converted": converted,
            "decided_at": 1_767_600_000_000 + n, "closed_at": 1_767_900_000_000 + n}


def _synthetic(treated: int, conv_t: int, held: int, conv_h: int, responded: int = 0,
               trigger: str = "roaming_welcome", code: str = "ROAM_DAY", start: int = 0
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    decisions, outcomes = [], []
    for i in range(treated):
        n = start + i
        decisions.append(_decision(n, "SENT", trigger, code))
        outcomes.append(_outcome(n, "TREATED", i < conv_t, i < responded, trigger, code))
    for i in range(held):
        n = start + treated + i
        decisions.append(_decision(n, "HOLDOUT", trigger, code))
        outcomes.append(_outcome(n, "HOLDOUT", i < conv_h, False, trigger, code))
    return decisions, outcomes


def test_aggregates_counts_rates_and_the_interval() -> None:
    decisions, outcomes = _synthetic(70, 56, 80, 48, responded=30)
    decisions.append(_decision(999, "SUPPRESSED", reasons=["no_consent"]))
    decisions.append(_decision(998, "SENT"))  # window still open: no outcome yet
    rows = aggregate(decisions, outcomes)
    row, tot = rows
    assert (row.trigger_id, row.offer_code) == ("roaming_welcome", "ROAM_DAY")
    assert (row.sent, row.holdout, row.treated, row.held) == (71, 80, 70, 80)
    assert (row.responded, row.converted_treated, row.converted_holdout) == (30, 56, 48)
    assert row.rate_treated == pytest.approx(0.8)
    assert row.rate_holdout == pytest.approx(0.6)
    assert row.response_rate == pytest.approx(30 / 70)
    assert row.interval == pytest.approx((0.2, 0.0524, 0.3339), abs=1e-4)
    assert not row.too_small
    assert row.verdict == "uplift"
    assert tot.is_total and tot.offer_code == "(all)" and tot.interval == row.interval


def test_duplicates_count_once() -> None:
    decisions, outcomes = _synthetic(3, 1, 2, 0)
    rows = aggregate(decisions * 2, outcomes * 3)
    assert (rows[0].sent, rows[0].holdout, rows[0].treated, rows[0].held) == (3, 2, 3, 2)


def test_total_row_sums_offer_codes_and_recomputes_rates() -> None:
    d1, o1 = _synthetic(40, 10, 40, 4, code="A")
    d2, o2 = _synthetic(20, 10, 10, 1, code="B", start=1000)
    d3, o3 = _synthetic(5, 1, 5, 0, trigger="bundle_low", code="TOPUP", start=2000)
    rows = aggregate(d1 + d2 + d3, o1 + o2 + o3)
    assert [(r.trigger_id, r.offer_code) for r in rows] == [
        ("bundle_low", "TOPUP"), ("bundle_low", "(all)"),
        ("roaming_welcome", "A"), ("roaming_welcome", "B"), ("roaming_welcome", "(all)"),
    ]
    total = rows[-1]
    assert (total.sent, total.holdout, total.treated, total.held) == (60, 50, 60, 50)
    assert (total.converted_treated, total.converted_holdout) == (20, 5)
    assert total.rate_treated == pytest.approx(20 / 60)
    assert total.uplift == pytest.approx(20 / 60 - 5 / 50)
    assert total.interval == pytest.approx(newcombe(20, 60, 5, 50))


def test_zero_cells() -> None:
    # Nobody converted in either group: difference 0, a finite interval, no division by zero.
    rows = aggregate(*_synthetic(40, 0, 35, 0))
    assert rows[0].interval == pytest.approx(newcombe(0, 40, 0, 35))
    assert rows[0].interval is not None and rows[0].interval[0] == 0.0
    assert rows[0].verdict == "no evidence"
    # Everyone treated converted, nobody held out did.
    rows = aggregate(*_synthetic(30, 30, 30, 0))
    assert rows[0].interval is not None and rows[0].interval[2] == 1.0
    assert rows[0].verdict == "uplift"


def test_no_holdout_outcome_means_no_uplift() -> None:
    rows = aggregate(*_synthetic(50, 5, 0, 0))
    assert rows[0].held == 0 and rows[0].rate_holdout is None
    assert rows[0].interval is None and rows[0].uplift is None
    assert rows[0].verdict == "too small"


def test_too_small_flag() -> None:
    small = aggregate(*_synthetic(29, 20, 100, 10))[0]
    assert small.too_small and small.verdict == "too small"
    assert small.interval is not None  # still computed, shown, but flagged
    enough = aggregate(*_synthetic(30, 20, 100, 10))[0]
    assert not enough.too_small and enough.verdict == "uplift"
    assert aggregate(*_synthetic(10, 9, 10, 3), min_group=5)[0].verdict == "uplift"


def test_negative_uplift_verdict() -> None:
    assert Row("t", "c", treated=100, held=100, converted_treated=5,
               converted_holdout=30).verdict == "negative"


def test_responses_join_by_offer_id_and_count_by_status() -> None:
    decisions, outcomes = _synthetic(3, 1, 1, 0)
    responses = [
        {"event_id": "r1", "offer_id": "o0", "status": "DELIVERED"},
        {"event_id": "r1", "offer_id": "o0", "status": "DELIVERED"},  # duplicate
        {"event_id": "r2", "offer_id": "o1", "status": "DELIVERED"},
        {"event_id": "r3", "offer_id": "o0", "status": "CLICKED"},
        {"event_id": "r4", "offer_id": "unknown", "status": "CLICKED"},
    ]
    rows = aggregate(decisions, outcomes, responses)
    assert rows[0].responses == {"DELIVERED": 2, "CLICKED": 1}
    assert rows[1].responses == {"DELIVERED": 2, "CLICKED": 1}
    text = render(rows)
    assert "Responses by status" in text
    table = text.split("Responses by status", 1)[1].splitlines()
    line = next(x for x in table if x.startswith("  ROAM_DAY"))
    assert line.split() == ["ROAM_DAY", "2", "1"]
    assert table[table.index(line) - 1] == "roaming_welcome"  # the trigger heads its offers


def test_render_is_a_readable_fixed_width_table() -> None:
    d1, o1 = _synthetic(70, 56, 80, 48, responded=30, code="A")
    d2, o2 = _synthetic(10, 9, 10, 3, code="B", start=1000)
    text = render(aggregate(d1 + d2, o1 + o2))
    lines = text.splitlines()
    assert lines[0].split()[:5] == ["trigger", "/", "offer", "sent", "holdout"]
    assert "95% CI (pp)" in lines[0] and "verdict" in lines[0]
    assert set(lines[1]) <= {"-", " "}
    heading, row_a, row_b, total = lines[2:6]
    assert heading == "roaming_welcome"
    assert row_a.startswith("  A ")
    assert "80.0%" in row_a and "60.0%" in row_a and " +20.0 " in row_a
    assert "[+5.2, +33.4]" in row_a and row_a.endswith("uplift")
    assert row_b.endswith("too small") and "+60.0" in row_b
    assert total.startswith("  (all)")
    # Columns line up: every table row ends its "sent" column at the header's.
    end = lines[0].index("sent") + len("sent")
    assert all(line[end - 1] != " " and line[end] == " " for line in (row_a, row_b, total))
    counts = text.split("Closed offers", 1)[1].splitlines()
    closed_a = next(x for x in counts if x.startswith("  A "))
    assert closed_a.split() == ["A", "70", "80", "56", "48", "30"]  # closed, conv, responded
    assert "fewer\nthan 30 closed offers" in text


def test_render_fits_100_columns_with_the_longest_bundled_names() -> None:
    """`cjo report` was 160 to 190 columns wide: a terminal wraps every line."""
    catalogue = default_catalogue()
    trigger = max((t.id for t in catalogue.triggers), key=len)
    code = max((o.code for t in catalogue.triggers for o in t.offers), key=len)
    row = Row(trigger, code, sent=123_456, holdout=6_789, treated=120_000, held=6_500,
              responded=34_567, converted_treated=23_456, converted_holdout=1_000,
              responses={"DELIVERED": 120_000, "CLICKED": 30_000, "ACCEPTED": 4_567,
                         "DECLINED": 2_000})
    text = render([row, total(trigger, [row])])
    assert max(len(line) for line in text.splitlines()) <= 100, text


def test_render_without_rows() -> None:
    assert "nothing to report" in render([])


# --- explain -----------------------------------------------------------------------------------


def test_top_features_by_absolute_value_at_most_six() -> None:
    features = {"a": 0.1, "b": -3.0, "c": 2.0, "d": 0.0, "e": 1.5, "f": -1.5, "g": 0.5, "h": 0.2}
    assert top_features(features) == [("b", -3.0), ("c", 2.0), ("e", 1.5), ("f", -1.5),
                                      ("g", 0.5), ("h", 0.2)]


def test_explain_renders_each_decision_newest_first() -> None:
    older = _decision(1, "SENT", channel="SMS", score=0.8123, propensity=0.25, model_version=7,
                      reasons=["eligible"], reason="landed abroad",
                      features={"roaming_days": 3.0, "arpu": -12.5, "x1": 0.1, "x2": 0.2,
                                "x3": 0.3, "x4": 0.4, "x5": 0.05})
    newer = _decision(5, "SUPPRESSED", code="BUNDLE_TOPUP", trigger="bundle_low",
                      reasons=["no_consent", "frequency_cap:2/24h"])
    held = _decision(3, "HOLDOUT", reasons=["holdout"])
    deferred = _decision(4, "DEFERRED", reasons=["quiet_hours"],
                         deferred_until=1_767_628_800_000)
    outcome = _outcome(1, "TREATED", converted=True, responded=True)
    text = explain("234150000000001", [older, newer, held, deferred, older], [outcome])
    blocks = text.split("\n\n")
    assert blocks[0].startswith("IMSI 234150000000001: 4 decisions")
    assert [b.splitlines()[0].split()[3:] for b in blocks[1:]] == [
        ["bundle_low", "SUPPRESSED"], ["roaming_welcome", "DEFERRED"],
        ["roaming_welcome", "HOLDOUT"], ["roaming_welcome", "SENT"],
    ]
    assert blocks[1].startswith(utc(newer["trigger_time"]))
    assert "no_consent, frequency_cap:2/24h" in blocks[1] and "BUNDLE_TOPUP" in blocks[1]
    assert "outcome" not in blocks[1]
    assert "deferred to  2026-01-05 16:00:00 UTC" in blocks[2]
    assert "response window still open" in blocks[3]
    sent = blocks[4]
    assert "channel      SMS" in sent and "landed abroad" in sent
    assert "score        0.8123   propensity 0.25   model v7" in sent
    features = next(x for x in sent.splitlines() if "features" in x)
    assert features.split(None, 1)[1] == (
        "arpu=-12.5, roaming_days=3, x4=0.4, x3=0.3, x2=0.2, x1=0.1"  # x5=0.05: 7th, left out
    )
    assert "(treated): responded yes, converted yes" in sent


def test_explain_last_and_empty() -> None:
    decisions = [_decision(n, "SENT") for n in range(5)]
    text = explain("234150000000001", decisions, last=2)
    assert "5 decisions, the 2 newest shown" in text
    assert text.count("roaming_welcome  SENT") == 2
    assert explain("234150000000001", []) == "no decisions for IMSI 234150000000001"


def test_utc() -> None:
    assert utc(0) == "1970-01-01 00:00:00 UTC"
    assert utc(None) == "-"
