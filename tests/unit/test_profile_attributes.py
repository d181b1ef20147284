"""A profile's further attributes (tenure, loyalty tier, device, ARPU band: issue 20, point 5):
carried compatibly by the SubscriberProfile record, declared in the catalogue, checked against
the declaration, deciding eligibility (``eligibility.where``) and shown in templates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cjo.catalogue.validate import load_catalogue
from cjo.catalogue.where import where_value
from cjo.codec import decode, encode, parse_log_line
from cjo.codec.schemas import schema_dir
from cjo.engine.offline import run_offline
from cjo.errors import CatalogueError, CatalogueRejected
from cjo.state import Position
from cjo.state.model import SubscriberState
from cjo.state.update import apply_record
from tests.scenarios.default_triggers import HOUR, T0, loc, profile
from tests.unit.test_codec import SAMPLES
from tests.unit.test_schema_evolution import written_with

CATALOGUE = """\
attributes:
  - {name: loyalty_tier, values: [BRONZE, SILVER, GOLD], default: valued}
  - {name: tenure_months, type: number}
policy: {quiet_hours: null, holdout_pct: 0}
triggers:
  - id: gold_roamer
    kind: transition
    eligibility:
      where: {loyalty_tier: [GOLD, SILVER], tenure_months: {gte: 12}}
    params: {attribute: network, from: home, to: foreign}
    offers:
      - code: GOLD_PASS
        channels: [sms]
        templates: {en: "$loyalty_tier member for $tenure_months months: welcome to $country"}
"""


def _problems(text: str) -> list[CatalogueError]:
    with pytest.raises(CatalogueRejected) as caught:
        load_catalogue([("a.yaml", text)])
    return caught.value.problems


def test_the_previous_release_s_profiles_decode_without_attributes() -> None:
    previous = json.loads((schema_dir() / "previous" / "SubscriberProfile.avsc").read_text())
    old = {k: v for k, v in SAMPLES["SubscriberProfile"].items() if k != "attributes"}
    name, record = decode(written_with(previous, old))
    assert name == "SubscriberProfile" and record["attributes"] == {}
    new = {**old, "attributes": {"loyalty_tier": "GOLD", "tenure_months": "26"}}
    assert decode(encode("SubscriberProfile", new))[1]["attributes"] == new["attributes"]


def test_a_recorded_profile_carries_attributes_into_the_state() -> None:
    line = profile(1)
    line["value"]["attributes"] = {"loyalty_tier": "GOLD", "device": "iphone-15"}
    record = parse_log_line(json.dumps(line).encode())
    state = apply_record(SubscriberState(imsi=record.value["imsi"]), "subscribers",
                         record.value, Position("cjo.subscribers", 0))
    assert state is not None and state.attributes == {"loyalty_tier": "GOLD", "device": "iphone-15"}


def test_conditions_read_the_text_as_their_values_need() -> None:
    from cjo.catalogue.where import compile_attribute_where

    where = {"tenure_months": {"gte": 12}, "tier": ["GOLD"], "arpu_band": [1, 2], "smart": True}
    tests = dict(compile_attribute_where({k: where_value(v) for k, v in where.items()}))

    def ok(name: str, value: Any) -> bool:
        return tests[name](value)

    assert ok("tenure_months", "12") and ok("tenure_months", "26.5")
    assert not ok("tenure_months", "11") and not ok("tenure_months", "twelve")
    assert ok("tier", "GOLD") and not ok("tier", "gold")
    assert ok("arpu_band", "2") and not ok("arpu_band", "3")
    assert ok("smart", "true") and not ok("smart", "false") and not ok("smart", "yes")


def test_attributes_decide_eligibility_and_fill_templates() -> None:
    catalogue = load_catalogue([("a.yaml", CATALOGUE)])
    lines = []
    for n, attributes in ((1, {"loyalty_tier": "GOLD", "tenure_months": "24"}),
                          (2, {"loyalty_tier": "BRONZE", "tenure_months": "24"}),
                          (3, {"loyalty_tier": "SILVER", "tenure_months": "3"}),
                          (4, {})):
        first = profile(n)
        first["value"]["attributes"] = attributes
        lines += [first, loc(n, T0), loc(n, T0 + HOUR, "20801")]
    records = [parse_log_line(json.dumps(x).encode()) for x in lines]
    decided = {d["imsi"][-1]: (d["outcome"], d["reasons"], d.get("message"))
               for d in run_offline(records, catalogue).decisions}
    assert decided == {
        "1": ("SENT", ["channel:sms"], "GOLD member for 24 months: welcome to France"),
        "2": ("SUPPRESSED", ["ineligible:loyalty_tier"], None),
        "3": ("SUPPRESSED", ["ineligible:tenure_months"], None),
        "4": ("SUPPRESSED", ["ineligible:loyalty_tier", "ineligible:tenure_months"], None),
    }


def test_attributes_are_checked_against_the_declared_list() -> None:
    text = CATALOGUE.replace("[GOLD, SILVER]", "[GOLD, PLATINUM]").replace(
        "tenure_months: {gte: 12}", "tenure_month: {gte: 12}, loyalty_tier_x: 1").replace(
        "$tenure_months", "$tenure")
    found = [(p.field.split(".", 1)[1], p.reason) for p in _problems(text)]
    assert found == [
        ("eligibility.where.loyalty_tier", "expected one of: BRONZE, SILVER, GOLD, got 'PLATINUM'"),
        ("eligibility.where.tenure_month", "unknown profile attribute 'tenure_month': declare it "
         "in an attributes section (did you mean 'tenure_months'? known: loyalty_tier, "
         "tenure_months)"),
        ("eligibility.where.loyalty_tier_x", "unknown profile attribute 'loyalty_tier_x': declare "
         "it in an attributes section (did you mean 'loyalty_tier'? known: loyalty_tier, "
         "tenure_months)"),
        ("offers[0].templates.en", "unknown placeholder $tenure (allowed: $country, "
         "$loyalty_tier, $mcc, $offer_code, $offer_value, $previous_country, $previous_mcc, "
         "$serving_plmn, $tenure_months, $valid_days, $valid_until)"),
    ]
    ranged = CATALOGUE.replace("[GOLD, SILVER]", "{gte: 2}").replace("{gte: 12}", "[a]")
    assert [p.reason for p in _problems(ranged)] == [
        "a range (gt, gte, lt, lte) needs a number attribute; loyalty_tier is text (declare it "
        "with type: number)",
        "tenure_months is a number: expected numbers, got 'a'"]
    twice = CATALOGUE.replace("policy:", "  - {name: loyalty_tier}\n  - {name: valid_until}\n"
                                         "policy:")
    assert [p.reason.split(" (")[0] for p in _problems(twice)] == [
        "duplicate attribute 'loyalty_tier'",
        "'valid_until' is a placeholder every offer has: name the attribute otherwise"]


def test_diff_names_attribute_changes() -> None:
    from cjo.catalogue.catalogue import diff

    old = load_catalogue([("a.yaml", CATALOGUE)])
    new = load_catalogue([("a.yaml", CATALOGUE.replace(
        "  - {name: tenure_months, type: number}\n",
        "  - {name: device}\n").replace("tenure_months: {gte: 12}", "device: [phone]").replace(
        "$tenure_months months", "a $device").replace("SILVER, GOLD]", "SILVER, GOLD, PLATINUM]"))])
    assert [line for line in diff(old, new) if "attribute" in line] == [
        "~ attribute loyalty_tier: values", "+ attribute device (text)",
        "- attribute tenure_months"]
