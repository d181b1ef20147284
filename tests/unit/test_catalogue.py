"""The trigger catalogue: loading, each problem at its file, line and field, diff, payload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cjo.catalogue.catalogue import diff, digest_of
from cjo.catalogue.model import GeofenceTrigger, PolicyDef, ThresholdTrigger
from cjo.catalogue.source import parse
from cjo.catalogue.validate import default_catalogue, load_catalogue, load_files, load_payload
from cjo.cli import main
from cjo.errors import CatalogueError, CatalogueRejected

HOUR = 3_600_000
DAY = 86_400_000

VENUES = """\
venues:
  - id: wembley
    name: Wembley Stadium
    kind: stadium
    center: {lat: 51.556, lon: -0.2796}
    radius_m: 300
"""

GOOD = """\
triggers:
  - id: bill_shock
    kind: threshold
    params:
      measure: bundle_pace_pct
      above: 100
    offers:
      - code: BUNDLE_UPGRADE
        templates:
          en: "At $value% of plan pace: upgrade with $offer_code."
  - id: stadium_arrival
    kind: geofence
    params: {venues: [wembley], on: enter, dwell: 10m}
    offers:
      - code: BOOST
        templates: {en: "Welcome to $venue!"}
"""


def _problems(*sources: tuple[str, str]) -> list[CatalogueError]:
    with pytest.raises(CatalogueRejected) as caught:
        load_catalogue(list(sources))
    return caught.value.problems


def _one(*sources: tuple[str, str]) -> CatalogueError:
    problems = _problems(*sources)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def _trigger(params: str, kind: str = "threshold", extra: str = "",
             template: str = '"hello"') -> str:
    """A one-trigger file: ``params`` is the params mapping in flow style (line 5)."""
    return (
        "triggers:\n"                       # 1
        "  - id: t1\n"                      # 2
        f"    kind: {kind}\n"               # 3
        "    max_delay: 30m\n"              # 4
        f"    params: {params}\n"           # 5
        "    offers:\n"                     # 6
        "      - code: OFFER_A\n"           # 7
        "        templates:\n"              # 8
        f"          en: {template}\n"       # 9
        + extra
    )


# -- the bundled catalogue -------------------------------------------------------------------------


def test_default_catalogue_loads_every_issue_trigger_and_venue() -> None:
    catalogue = default_catalogue()
    kinds = {t.id: t.kind for t in catalogue.triggers}
    assert kinds == {
        "roaming_welcome": "transition", "trial_expiry_promo": "deadline",
        "bundle_topup": "threshold", "low_balance": "threshold",
        "mall_food_voucher": "geofence", "stadium_arrival": "geofence",
        "stadium_halftime": "geofence", "stadium_leaving": "geofence",
        "gaming_bundle": "sequence", "new_device_accessories": "transition",
        "contract_renewal": "deadline", "dropped_sessions_apology": "count",
        "bill_shock": "threshold", "welcome_home": "transition", "video_heavy_day": "threshold",
    }
    assert set(catalogue.venues) == {"westfield_stratford", "bullring", "trafford_centre",
                                     "wembley", "old_trafford"}
    # every trigger is on but two examples: the return journey, a usage threshold per category
    assert [t.id for t in catalogue.triggers if t not in catalogue.enabled()] == [
        "welcome_home", "video_heavy_day"]
    roaming = catalogue.get("roaming_welcome")
    assert roaming is not None
    assert roaming.max_delay == 30 * 60_000
    assert set(roaming.offers[0].templates) == {"en", "de", "fr", "es", "pl"}
    leaving = catalogue.get("stadium_leaving")
    assert isinstance(leaving, GeofenceTrigger)
    assert leaving.params.on == "leave"  # not YAML 1.1's True
    assert leaving.params.dwell == 60 * 60_000
    assert catalogue.get("nope") is None
    assert len(catalogue.digest) == 12


def test_default_catalogue_files_validate_by_path_with_the_same_digest() -> None:
    defaults = Path(__file__).resolve().parents[2] / "cjo" / "catalogue" / "defaults"
    loaded = load_files(sorted(defaults.glob("*.yaml")))  # triggers.yaml before venues.yaml
    assert loaded.digest == default_catalogue().digest
    assert [t.id for t in loaded.triggers] == [t.id for t in default_catalogue().triggers]


def test_a_good_catalogue_keeps_file_order_and_values() -> None:
    catalogue = load_catalogue([("venues.yaml", VENUES), ("triggers.yaml", GOOD)])
    assert [t.id for t in catalogue.triggers] == ["bill_shock", "stadium_arrival"]
    shock = catalogue.triggers[0]
    assert isinstance(shock, ThresholdTrigger)
    assert shock.params.above == 100
    assert catalogue.sources == (("venues.yaml", VENUES), ("triggers.yaml", GOOD))


# -- the YAML reader -------------------------------------------------------------------------------


def test_parse_keeps_lines_and_reads_yaml_1_2_scalars() -> None:
    parsed = parse("f.yaml", "a:\n  - x: 1\n    on: enter\n    no: hej\n    d: 2026-01-01\n")
    assert parsed.value == {"a": [{"x": 1, "on": "enter", "no": "hej", "d": "2026-01-01"}]}
    assert parsed.lines[("a",)] == 1
    assert parsed.lines[("a", 0)] == 2
    assert parsed.lines[("a", 0, "on")] == 3
    assert parsed.line_of(("a", 0, "d", "deeper")) == 5


def test_yaml_syntax_error_at_the_line_of_the_mistake() -> None:
    problem = _one(("bad.yaml", "triggers:\n  - id: a\n    kind: [threshold\n  - id: b\n"))
    assert problem.file == "bad.yaml"
    assert problem.line == 3  # where the "[" is opened, not where the parser gave up
    assert problem.reason == ('not valid YAML: a list opened with "[" is not closed with "]" '
                              "(or an item needs quotes)")


def test_duplicate_key_at_its_second_line() -> None:
    problem = _one(("dup.yaml", "triggers:\n  - id: a\n    kind: count\n    id: b\n"))
    assert (problem.file, problem.line) == ("dup.yaml", 4)
    assert problem.field == "triggers[0].id"
    assert "duplicate key 'id' (first at line 2)" in problem.reason


def test_an_empty_file_is_an_empty_catalogue() -> None:
    catalogue = load_catalogue([("empty.yaml", "# nothing yet\n")])
    assert catalogue.triggers == ()
    assert dict(catalogue.venues) == {}


# -- schema problems at file, line and field -------------------------------------------------------


def test_wrong_type_says_what_was_expected() -> None:
    problem = _one(("t.yaml", _trigger("{measure: balance, below: abc}")))
    assert (problem.file, problem.line) == ("t.yaml", 5)
    assert problem.field == "triggers[0] (t1).params.below"
    assert problem.reason == "expected a number, got 'abc'"
    assert str(problem) == ("t.yaml:5: triggers[0] (t1).params.below: "
                            "expected a number, got 'abc'")


def test_unknown_field_lists_the_known_ones() -> None:
    source = _trigger("{venues: [wembley], on: enter, dwel: 5m}", kind="geofence")
    problem = _one(("v.yaml", VENUES), ("t.yaml", source))
    assert (problem.file, problem.line, problem.field) == (
        "t.yaml", 5, "triggers[0] (t1).params.dwel")
    assert "unknown field 'dwel'" in problem.reason
    assert "known: dwell, on, venue_kind, venues" in problem.reason


def test_unknown_field_on_its_own_line() -> None:
    source = _trigger("{measure: balance, below: 2}", extra="    colour: red\n")
    problem = _one(("t.yaml", source))
    assert (problem.line, problem.field) == (10, "triggers[0] (t1).colour")
    assert "unknown field 'colour'" in problem.reason


def test_bad_enum_lists_the_choices() -> None:
    source = _trigger("{venues: [wembley], on: arrive}", kind="geofence")
    problem = _one(("v.yaml", VENUES), ("t.yaml", source))
    assert (problem.line, problem.field) == (5, "triggers[0] (t1).params.on")
    assert problem.reason == "expected one of: enter, leave, got 'arrive'"


def test_unknown_kind() -> None:
    problem = _one(("t.yaml", _trigger("{}", kind="thresold")))
    assert (problem.line, problem.field) == (3, "triggers[0] (t1).kind")
    assert "expected one of: transition, threshold" in problem.reason


def test_missing_field_at_its_parent() -> None:
    problem = _one(("t.yaml", _trigger("{below: 2}")))
    assert (problem.line, problem.field) == (5, "triggers[0] (t1).params.measure")
    assert problem.reason == "missing required field 'measure'"


def test_bad_duration() -> None:
    source = _trigger("{measure: balance, below: 2}").replace("max_delay: 30m",
                                                             "max_delay: 30 minutes")
    problem = _one(("t.yaml", source))
    assert (problem.line, problem.field) == (4, "triggers[0] (t1).max_delay")
    assert "expected a duration such as 30m" in problem.reason


@pytest.mark.parametrize("duration", ["36501d", "-5300w", "3153600000001"])
def test_a_duration_past_a_century_is_refused(duration: str) -> None:
    """Added to an event time it could pass year 9999, which no offer can carry."""
    source = _trigger("{measure: balance, below: 2}").replace("max_delay: 30m",
                                                             f"max_delay: {duration}")
    problem = _one(("t.yaml", source))
    assert (problem.line, problem.field) == (4, "triggers[0] (t1).max_delay")
    assert "a duration is at most 36500d either way" in problem.reason


def test_model_rule_reported_without_pydantic_prefix() -> None:
    problem = _one(("t.yaml", _trigger("{measure: balance}")))
    assert (problem.line, problem.field) == (5, "triggers[0] (t1).params")
    assert problem.reason == "give exactly one of below or above"


# -- cross checks ----------------------------------------------------------------------------------


def test_duplicate_trigger_id_across_files_names_both_places() -> None:
    first = _trigger("{measure: balance, below: 2}")
    second = "# another team's file\n" + _trigger("{measure: balance, above: 9}")
    problem = _one(("a.yaml", first), ("b.yaml", second))
    assert (problem.file, problem.line, problem.field) == ("b.yaml", 3, "triggers[0] (t1).id")
    assert problem.reason == "duplicate trigger id 't1' (also at a.yaml:2)"


def test_duplicate_venue_id() -> None:
    problem = _one(("a.yaml", VENUES), ("b.yaml", VENUES))
    assert (problem.file, problem.line) == ("b.yaml", 2)
    assert "duplicate venue id 'wembley' (also at a.yaml:2)" in problem.reason


def test_unknown_venue_and_empty_venue_kind() -> None:
    geofence = _trigger("{venues: [wembly], venue_kind: zoo}", kind="geofence")
    problems = _problems(("v.yaml", VENUES), ("t.yaml", geofence))
    assert [(p.line, p.field) for p in problems] == [
        (5, "triggers[0] (t1).params.venues[0]"), (5, "triggers[0] (t1).params.venue_kind")]
    assert "unknown venue 'wembly' (did you mean 'wembley'?" in problems[0].reason
    assert "selects no venue (kinds: stadium)" in problems[1].reason


def test_deadline_moment_anchor_must_be_another_existing_trigger() -> None:
    own = _trigger("{anchor: moment, trigger: t1}", kind="deadline", template='"$trigger"')
    assert "own moments" in _one(("t.yaml", own)).reason
    other = _trigger("{anchor: moment, trigger: low_balance}", kind="deadline")
    problem = _one(("t.yaml", other))
    assert (problem.line, problem.field) == (5, "triggers[0] (t1).params.trigger")
    assert problem.reason.startswith("unknown trigger 'low_balance'")


def test_matchers_name_streams_and_schema_fields() -> None:
    count = _trigger(
        "{match: {event: usage, where: {dropped: yes, app_category: GAMES, colour: red}}, "
        "count: 3, within: 1h}", kind="count")
    problems = _problems(("c.yaml", count))
    reasons = {p.field.rsplit(".", 1)[1]: p.reason for p in problems}
    assert reasons["dropped"] == "expected true or false, got 'yes'"  # YAML 1.2: yes is text
    assert reasons["app_category"].startswith("expected one of: VIDEO, SOCIAL, GAMING")
    assert reasons["colour"].startswith("usage records have no field 'colour'")
    sequence = _trigger("{steps: [{event: trial_started, where: {product_id: x}}, "
                        "{event: clicks}], within: 14d}", kind="sequence")
    problem = _one(("s.yaml", sequence))
    assert problem.field == "triggers[0] (t1).params.steps[1].event"
    assert "unknown event 'clicks'" in problem.reason


def test_threshold_percentages_in_range() -> None:
    assert "expected 0..100, got 150" in _one(
        ("t.yaml", _trigger("{measure: bundle_used_pct, above: 150}"))).reason
    load_catalogue([("t.yaml", _trigger("{measure: bundle_pace_pct, above: 150}"))])
    assert "expected 0..1000" in _one(
        ("t.yaml", _trigger("{measure: bundle_pace_pct, above: 1500}"))).reason


def test_bad_template_placeholder_at_its_line() -> None:
    problem = _one(("t.yaml", _trigger("{measure: balance, below: 2}",
                                       template='"Balance $valeu $currency"')))
    assert (problem.line, problem.field) == (9, "triggers[0] (t1).offers[0].templates.en")
    assert problem.reason.startswith("unknown placeholder $valeu (allowed: ")
    assert "$value" in problem.reason
    assert "$venue" not in problem.reason  # only the threshold kind's placeholders


def test_bad_placeholder_in_a_block_text_at_its_own_line() -> None:
    source = _trigger("{measure: balance, below: 2}", template="|\n            Hi,\n"
                      "            your balance is $valeu.\n")
    problem = _one(("t.yaml", source))
    assert problem.line == 11
    assert "$valeu" in problem.reason


def test_lone_dollar_and_language_tags() -> None:
    source = _trigger("{measure: balance, below: 2}",
                      extra="          pt_BR: ola\n          de: 5 $ extra\n")
    problems = _problems(("t.yaml", source))
    assert [(p.line, p.field.rsplit(".", 1)[1]) for p in problems] == [(10, "pt_BR"), (11, "de")]
    assert "not a BCP-47 tag" in problems[0].reason
    assert "write $$ for a literal $" in problems[1].reason


# -- a refused catalogue ---------------------------------------------------------------------------


def test_refused_catalogue_lists_every_problem_one_per_line() -> None:
    bad_a = _trigger("{measure: balance, below: abc}")
    bad_b = _trigger("{venues: [nowhere]}", kind="geofence").replace("t1", "t2")
    with pytest.raises(CatalogueRejected) as caught:
        load_catalogue([("a.yaml", bad_a), ("b.yaml", "triggers: [\n"), ("c.yaml", bad_b)])
    lines = str(caught.value).splitlines()
    assert len(lines) == 3
    assert lines[0] == "a.yaml:5: triggers[0] (t1).params.below: expected a number, got 'abc'"
    assert lines[1].startswith("b.yaml:1: not valid YAML: a list or mapping opened with")
    assert lines[2].startswith("c.yaml:5: triggers[0] (t2).params.venues[0]: unknown venue")


def test_unreadable_file_is_one_more_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(_trigger("{measure: balance, below: abc}"))
    with pytest.raises(CatalogueRejected) as caught:
        load_files([bad, tmp_path / "missing.yaml"])
    assert [p.file for p in caught.value.problems] == [str(bad), str(tmp_path / "missing.yaml")]


# -- diff and payload ------------------------------------------------------------------------------


def test_diff_lines() -> None:
    old = load_catalogue([("v.yaml", VENUES), ("t.yaml", GOOD)])
    assert diff(old, old) == []
    changed = GOOD.replace("  - id: bill_shock\n", "  - id: bill_shock\n    version: 2\n"
                           "    max_delay: 2h\n").replace("above: 100", "above: 120")
    changed = changed.replace("  - id: stadium_arrival", "  - id: stadium_leaving")
    venues = VENUES + "  - id: old_trafford\n    name: Old Trafford\n    kind: stadium\n" \
                      "    center: {lat: 53.46, lon: -2.29}\n    radius_m: 300\n"
    new = load_catalogue([("v.yaml", venues), ("t.yaml", changed)])
    assert diff(old, new) == [
        "~ trigger bill_shock v1 -> v2: max_delay, params.above",
        "+ trigger stadium_leaving (geofence, v1)",
        "- trigger stadium_arrival",
        "+ venue old_trafford",
    ]
    assert diff(None, old) == ["+ trigger bill_shock (threshold, v1)",
                               "+ trigger stadium_arrival (geofence, v1)", "+ venue wembley"]


def test_diff_names_template_changes() -> None:
    old = load_catalogue([("t.yaml", _trigger("{measure: balance, below: 2}"))])
    new = load_catalogue([("t.yaml", _trigger("{measure: balance, below: 2}",
                                              extra='          de: "hallo"\n'))])
    assert diff(old, new) == ["~ trigger t1 v1: offers[0].templates.de"]


def test_payload_round_trip() -> None:
    catalogue = default_catalogue()
    again = load_payload(catalogue.to_payload())
    assert again == catalogue
    assert diff(catalogue, again) == []


def test_payload_is_revalidated() -> None:
    payload = json.loads(default_catalogue().to_payload())
    payload["digest"] = "000000000000"
    with pytest.raises(CatalogueRejected, match="does not match"):
        load_payload(json.dumps(payload).encode())
    bad = [{"name": "t.yaml", "text": _trigger("{measure: balance, below: abc}")}]
    forged = {"format": payload["format"], "sources": bad,
              "digest": digest_of([(s["name"], s["text"]) for s in bad])}
    with pytest.raises(CatalogueRejected, match="expected a number"):
        load_payload(json.dumps(forged).encode())
    with pytest.raises(CatalogueRejected, match="not JSON"):
        load_payload(b"\x00 not json")


# -- the command -----------------------------------------------------------------------------------


def test_cli_validate_ok_and_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    venues = tmp_path / "venues.yaml"
    venues.write_text(VENUES)
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    assert main(["catalogue", "validate", str(venues), str(good)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 2 triggers (2 enabled), 1 venue, digest ")
    bad = tmp_path / "bad.yaml"
    bad.write_text(_trigger("{measure: balance, below: abc}", template='"$nope"')
                   + "  - id: t1\n")
    assert main(["catalogue", "validate", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{bad}:5: triggers[0] (t1).params.below: expected a number, got 'abc'"
    assert len(err) == 2  # and the second trigger's missing kind


def test_cli_show_bundled_describes_the_bundled_catalogue(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "show", "--bundled"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "kind", "enabled", "version", "priority", "offers"]
    assert lines[1].split() == ["roaming_welcome", "transition", "yes", "v1", "80",
                                "TRAVEL_PASS_1GB_7D"]
    assert len(lines) == 1 + 15 + 1


# -- the contact policy and the policy fields of triggers and offers ------------------------------

BASE = [("v.yaml", VENUES), ("t.yaml", GOOD)]
POLICY = """\
# the marketing team's rules
policy:
  caps:
    - {count: 3, within: 24h}
  channel_caps:
    sms: [{count: 1, within: 7d}]
  quiet_hours: {start: "22:30", end: 7:00}
  dedupe: 30d
  holdout_pct: 10
  holdout_salt: spring
  response_window: 48h
"""


def test_no_policy_section_means_the_defaults() -> None:
    policy = load_catalogue(BASE).policy
    assert policy == PolicyDef()
    assert [(c.count, c.within) for c in policy.caps] == [(2, 24 * HOUR), (5, 7 * DAY)]
    assert policy.channel_caps == {}
    assert policy.quiet_hours is not None
    assert (policy.quiet_hours.start, policy.quiet_hours.end) == ("21:00", "08:00")
    assert (policy.dedupe, policy.holdout_pct, policy.holdout_salt, policy.response_window) == (
        14 * DAY, 5.0, "cjo-holdout", 72 * HOUR)


def test_a_policy_section_in_any_one_file() -> None:
    policy = load_catalogue([*BASE, ("p.yaml", POLICY)]).policy
    assert [(c.count, c.within) for c in policy.caps] == [(3, 24 * HOUR)]
    assert [(c.count, c.within) for c in policy.channel_caps["sms"]] == [(1, 7 * DAY)]
    assert policy.quiet_hours is not None
    assert (policy.quiet_hours.start, policy.quiet_hours.end) == ("22:30", "7:00")
    assert (policy.dedupe, policy.holdout_pct, policy.holdout_salt, policy.response_window) == (
        30 * DAY, 10.0, "spring", 48 * HOUR)
    alone = load_catalogue([("p.yaml", "policy: {quiet_hours: null, caps: []}\n")]).policy
    assert (alone.quiet_hours, alone.caps, alone.dedupe) == (None, [], 14 * DAY)


def test_two_policy_sections_are_one_problem_naming_both_places() -> None:
    problem = _one(("a.yaml", POLICY), *BASE, ("b.yaml", "venues: []\n" + POLICY))
    assert (problem.file, problem.line, problem.field) == ("b.yaml", 3, "policy")
    assert problem.reason == "policy is set in more than one file (also at a.yaml:2); keep one"


def test_a_second_policy_is_reported_even_when_it_is_invalid() -> None:
    problems = _problems(("a.yaml", POLICY), ("b.yaml", "policy: {holdout_pct: 80}\n"))
    assert [(p.file, p.line, p.field) for p in problems] == [
        ("b.yaml", 1, "policy.holdout_pct"), ("b.yaml", 1, "policy")]


def test_policy_problems_at_their_lines() -> None:
    bad = POLICY.replace("count: 3", "count: 0").replace("sms:", "fax:").replace(
        '"22:30"', '"24:00"').replace("30d", "120d").replace("holdout_pct: 10",
                                                             "holdout_pct: 60")
    problems = _problems(("p.yaml", bad))
    assert [(p.line, p.field) for p in problems] == [
        (4, "policy.caps[0].count"), (6, "policy.channel_caps.fax"),
        (7, "policy.quiet_hours.start"), (8, "policy.dedupe"), (9, "policy.holdout_pct")]
    reasons = [p.reason for p in problems]
    assert reasons[1] == "expected one of: push, sms, email, got 'fax'"
    assert reasons[2] == "expected a time of day such as 21:00, got '24:00'"
    assert reasons[3] == "a contact rule looks back at most 90d, got 120d"
    assert "50" in reasons[4]


def test_quiet_hours_need_a_period_and_caps_a_bounded_count() -> None:
    same = "policy:\n  quiet_hours: {start: \"08:00\", end: 8:00}\n"
    problem = _one(("p.yaml", same))
    assert (problem.line, problem.field) == (2, "policy.quiet_hours")
    assert problem.reason.startswith("start and end are the same time")
    assert "64" in _one(("p.yaml", "policy: {caps: [{count: 65, within: 7d}]}\n")).reason
    assert _one(("p.yaml", "policy: {dedupe: 1h, colour: red}\n")).reason.startswith(
        "unknown field 'colour'")


def test_marketing_budget_and_conversion_fields() -> None:
    extra = ("        budget_per_day: 500\n"
             "        conversion: {event: charging, where: {bundle_id: ADDON_5GB_30D}}\n")
    source = _trigger("{measure: balance, below: 2}").replace(
        "    offers:\n      - code: OFFER_A\n",
        "    marketing: false\n    offers:\n      - code: OFFER_A\n" + extra)
    (trigger,) = load_catalogue([("t.yaml", source)]).triggers
    assert trigger.marketing is False
    offer = trigger.offers[0]
    assert offer.budget_per_day == 500
    assert offer.conversion is not None
    assert (offer.conversion.event, offer.conversion.where) == (
        "charging", {"bundle_id": "ADDON_5GB_30D"})
    (plain,) = load_catalogue([("t.yaml", _trigger("{measure: balance, below: 2}"))]).triggers
    assert (plain.marketing, plain.offers[0].budget_per_day, plain.offers[0].conversion) == (
        True, None, None)


def test_budget_and_conversion_are_validated_like_matchers() -> None:
    extra = ("        budget_per_day: 0\n"
             "        conversion: {event: charging, where: {colour: red, rat_type: PIGEON}}\n")
    source = _trigger("{measure: balance, below: 2}").replace(
        "      - code: OFFER_A\n", "      - code: OFFER_A\n" + extra)
    problems = _problems(("t.yaml", source))
    assert problems[0].field == "triggers[0] (t1).offers[0].budget_per_day"
    valid = source.replace("budget_per_day: 0", "budget_per_day: 1")
    # the refused budget hides nothing: the conversion's problems are the same without it
    assert [str(p) for p in problems][1:] == [str(p) for p in _problems(("t.yaml", valid))]
    problems = _problems(("t.yaml", valid))
    fields = {p.field.rsplit(".", 1)[1]: p for p in problems}
    assert fields["colour"].reason.startswith("charging records have no field 'colour'")
    assert fields["colour"].line == 9
    assert fields["rat_type"].reason.startswith("expected one of: ")
    unknown = valid.replace("event: charging, where: {colour: red, rat_type: PIGEON}",
                            "event: purchase")
    problem = _one(("t.yaml", unknown))
    assert problem.field == "triggers[0] (t1).offers[0].conversion.event"
    assert "unknown event 'purchase'" in problem.reason
    load_catalogue([("t.yaml", unknown.replace("event: purchase", "event: topup"))])


def test_diff_names_policy_changes() -> None:
    old = load_catalogue(BASE)
    new = load_catalogue([*BASE, ("p.yaml", "policy: {dedupe: 7d}\n")])
    assert diff(old, new) == ["~ policy: dedupe"]
    stricter = load_catalogue([*BASE, ("p.yaml", POLICY)])
    assert diff(new, stricter) == [
        "~ policy: caps, channel_caps.sms, quiet_hours.start, quiet_hours.end, dedupe, "
        "holdout_pct, holdout_salt, response_window"]
    assert diff(None, new)[-1] == "~ policy: dedupe"  # against the defaults
    same = load_catalogue([*BASE, ("p.yaml", "policy: {dedupe: 14d}\n")])
    assert diff(old, same) == []
    assert same.digest != old.digest  # the sources differ, so does the version id


def test_the_policy_travels_in_the_payload() -> None:
    catalogue = load_catalogue([*BASE, ("p.yaml", POLICY)])
    again = load_payload(catalogue.to_payload())
    assert again.policy == catalogue.policy
    assert again.policy.holdout_salt == "spring"


def test_the_bundled_policy_and_policy_fields() -> None:
    catalogue = default_catalogue()
    assert catalogue.policy == PolicyDef()
    assert "\npolicy:\n" in dict(catalogue.sources)["defaults/triggers.yaml"]
    assert [t.id for t in catalogue.triggers if not t.marketing] == ["dropped_sessions_apology"]
    offers = {o.code: o for t in catalogue.triggers for o in t.offers}
    bundle = offers["ADDON_5GB_30D"].conversion
    assert bundle is not None
    assert (bundle.event, bundle.where) == ("bundle_purchased", {"bundle_id": "ADDON_5GB_30D"})
    topup = offers["TOPUP_BONUS_20PCT"].conversion
    assert topup is not None
    assert topup.event == "topup"
    assert offers["FOOD_COURT_VOUCHER_5"].budget_per_day == 1000
    assert offers["TRAVEL_PASS_1GB_7D"].conversion is None
