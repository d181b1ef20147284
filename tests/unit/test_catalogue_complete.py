"""Catalogue validation reports every independent problem of a file in one run, none of the
knock-on ones, and says what is wrong with YAML syntax in plain words at the line of the mistake
(issue 20, points 3 and 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cjo.catalogue.validate import load_catalogue
from cjo.cli import main
from cjo.errors import CatalogueError, CatalogueRejected

# Each trigger has one schema problem that used to hide the others, or to add a knock-on one.
FILE = """\
triggers:
  - id: heavy_video
    kind: threshold
    max_dealy: 30m
    params:
      measure: usage_bytes
      above: 1GB
      period: day
      where: {app_categry: VIDEO}
    offers:
      - code: VIDEO_PASS
        templates:
          en: "Enjoy video"
  - id: my_count
    kind: count
    priority: 450
    params:
      match: {event: usage, where: {app_category: VIDEOS}}
      count: 3
      within: 1h
    offers:
      - code: GIFT
        templates:
          en: "Sorry $cuont times"
  - id: Bad-Id
    kind: treshold
    params: {measure: balance, below: 5}
    offers:
      - code: TOPUP
        templates:
          en: "Top up"
  - id: wrong_measure
    kind: threshold
    params:
      measure: usage_byte
      above: 1GB
    offers:
      - code: X
        templates:
          en: "x"
"""


def _problems(*sources: tuple[str, str]) -> list[CatalogueError]:
    with pytest.raises(CatalogueRejected) as caught:
        load_catalogue(list(sources))
    return caught.value.problems


def test_every_independent_problem_in_one_run_and_no_knock_on_one() -> None:
    found = [(p.line, p.field, p.reason.split(" (")[0]) for p in _problems(("my.yaml", FILE))]
    assert found == [
        (4, "triggers[0] (heavy_video).max_dealy", "unknown field 'max_dealy'"),
        # hidden by max_dealy before
        (9, "triggers[0] (heavy_video).params.where.app_categry",
         "usage records have no field 'app_categry'"),
        (16, "triggers[1] (my_count).priority", "expected less than or equal to 100, got 450"),
        # both hidden by the priority before
        (18, "triggers[1] (my_count).params.match.where.app_category",
         "expected one of: VIDEO, SOCIAL, GAMING, MESSAGING, VOIP, WEB, MUSIC, OTHER, UNKNOWN, "
         "got 'VIDEOS'"),
        (24, "triggers[1] (my_count).offers[0].templates.en", "unknown placeholder $cuont"),
        # hidden by the unknown kind before
        (25, "triggers[2] (Bad-Id).id", "expected lower-case letters, digits and _ only, "
                                        "got 'Bad-Id'"),
        (26, "triggers[2] (Bad-Id).kind", "expected one of: transition, threshold, geofence, "
                                          "deadline, sequence, count, got 'treshold'"),
        # and no "params.above: expected a number, got '1GB'" after the misspelt measure
        (35, "triggers[3] (wrong_measure).params.measure",
         "expected one of: bundle_used_pct, bundle_remaining_pct, balance, bundle_pace_pct, "
         "usage_bytes, got 'usage_byte'"),
    ]


def test_a_misspelt_kind_is_named() -> None:
    [kind] = [p for p in _problems(("my.yaml", FILE)) if p.field.endswith(".kind")]
    assert kind.reason.endswith("got 'treshold' (did you mean 'threshold'?)")


def test_a_refused_id_hides_nothing_and_references_to_it_are_no_knock_on() -> None:
    source = ("triggers:\n"
              "  - id: Bad-Id\n"
              "    kind: count\n"
              "    params: {match: {event: usage, where: {app_categry: VIDEO}}, count: 3, "
              "within: 1h}\n"
              "    offers: [{code: GIFT, templates: {en: \"Sorry $cuont\"}}]\n"
              "  - id: later\n"
              "    kind: deadline\n"
              "    params: {anchor: moment, trigger: Bad-Id, offset: 1h}\n"
              "    offers: [{code: X, templates: {en: x}}]\n")
    assert [(p.line, p.field.rsplit(".", 1)[-1]) for p in _problems(("a.yaml", source))] == [
        (2, "id"), (4, "app_categry"), (5, "en")]


def test_a_refused_offer_code_hides_nothing() -> None:
    source = ("triggers:\n"
              "  - id: t\n"
              "    kind: count\n"
              "    params: {match: {event: usage, where: {app_categry: VIDEO}}, count: 3, "
              "within: 1h}\n"
              "    offers:\n"
              "      - {code: GIFT, templates: {en: ok}}\n"
              "      - {code: gift_two, templates: {en: \"Sorry $cuont\"}}\n")
    assert [(p.line, p.field.split(".", 1)[1]) for p in _problems(("a.yaml", source))] == [
        (4, "params.match.where.app_categry"), (7, "offers[1].code"),
        (7, "offers[1].templates.en")]


def test_a_required_part_refused_is_not_guessed_at() -> None:
    # a geofence without valid venues: its params cannot be repaired, so nothing is reported
    # about what depends on them (the $venue placeholder)
    source = ("triggers:\n  - id: g\n    kind: geofence\n    params: {venues: 5}\n"
              "    offers:\n      - code: A\n        templates: {en: \"At $venue\"}\n")
    assert [p.field for p in _problems(("g.yaml", source))] == ["triggers[0] (g).params.venues"]


@pytest.mark.parametrize(("text", "line", "words"), [
    # an unclosed "[" on line 3 of a 3-line file: line 3, not 4
    ("triggers:\n  - id: a\n    kind: [threshold\n", 3, 'a list opened with "[" is not closed'),
    ("triggers:\n  - id: a\n    params: {below: 5\n    offers: []\n", 3,
     'a mapping opened with "{" is not closed'),
    ("triggers:\n  - id: a\n    description: \"hello\n    kind: count\n", 3,
     "a quote is not closed"),
    ("triggers:\n  - id: a\n    kind count\n    params: {}\n", 3, 'needs a ":"'),
    ("triggers:\n  - id:a\n    kind: count\n", 2, 'a name needs a space after its ":"'),
    ("triggers:\n  - id: a\n    description: Note: this\n", 3,
     'a text containing ": " needs quotes'),
    ("triggers:\n  - id: a\n    kind: count\n   params: {}\n", 4, "the indentation does not match"),
    ("triggers:\n  - id: a\n    kind: count\n      params: {}\n", 4, "indented further"),
    ("triggers:\n\t- id: a\n", 2, "a tab character: indent with spaces only"),
    ("triggers:\n  - id: a\n    kind: count\n  id: b\n    kind: count\n", 4,
     'a new entry of the list above starts with "- "'),
    ("triggers:\n  - id: a\n    description: @home\n", 3, "cannot start with @: put the value"),
])
def test_yaml_mistakes_in_plain_words_at_their_line(text: str, line: int, words: str) -> None:
    [problem] = _problems(("bad.yaml", text))
    assert problem.line == line, problem
    assert problem.reason.startswith("not valid YAML: ")
    assert words in problem.reason
    assert "<block" not in problem.reason and "while parsing" not in problem.reason


def test_validate_refuses_an_empty_file_as_apply_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    assert main(["catalogue", "validate", str(empty)]) == 1
    captured = capsys.readouterr()
    assert "OK" not in captured.out
    assert "has no trigger: refused" in captured.err


def test_validate_counts_in_the_singular(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = tmp_path / "one.yaml"
    one.write_text("venues:\n  - {id: v, name: V, center: {lat: 1, lon: 2}, radius_m: 10}\n"
                   + FILE.partition("  - id: my_count")[0].replace("max_dealy", "max_delay")
                   .replace("app_categry", "app_category"))
    assert main(["catalogue", "validate", str(one)]) == 0
    assert capsys.readouterr().out.startswith("OK: 1 trigger (1 enabled), 1 venue, digest ")
