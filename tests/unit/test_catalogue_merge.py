"""``apply --merge``: new files on top of the catalogue in force (cjo.catalogue.merge)."""

from __future__ import annotations

import pytest

from cjo.catalogue.catalogue import diff
from cjo.catalogue.merge import export, merge_sources
from cjo.catalogue.validate import default_catalogue, load_catalogue
from cjo.errors import CatalogueRejected

VIDEO = """\
triggers:
  - id: video_binge
    kind: count
    params: {match: {event: usage, where: {app_category: VIDEO}}, count: 2, within: 1h}
    offers:
      - code: VIDEO_PASS_1D
        channels: [sms]
        templates: {en: "Binge on: a day of video for $offer_value with $offer_code."}
"""


def _bundled_trigger(trigger_id: str, version: int) -> str:
    """A bundled trigger's YAML entry, as a file of its own, at another version."""
    text = dict(default_catalogue().sources)["defaults/triggers.yaml"]
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line == f"  - id: {trigger_id}\n")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  - id: ")),
               len(lines))
    entry = "".join(lines[start + 1:end]).rstrip() + "\n"
    return f"triggers:\n  - id: {trigger_id}\n    version: {version}\n{entry}"


def test_a_new_trigger_is_added_to_every_trigger_in_force() -> None:
    bundled = default_catalogue()
    merged = load_catalogue(merge_sources(bundled.sources, [("video.yaml", VIDEO)]))
    assert diff(bundled, merged) == ["+ trigger video_binge (count, v1)"]
    assert merged.sources[:2] == bundled.sources  # the texts in force untouched, comments too


def test_a_trigger_with_an_id_in_force_replaces_it_and_its_comment_goes_with_it() -> None:
    bundled = default_catalogue()
    changed = _bundled_trigger("low_balance", 2)
    merged = load_catalogue(merge_sources(bundled.sources, [("mine.yaml", changed)]))
    assert diff(bundled, merged) == ["~ trigger low_balance v1 -> v2: version only"]
    text = dict(merged.sources)["defaults/triggers.yaml"]
    assert "id: low_balance" not in text
    assert "id: bundle_topup" in text and "id: mall_food_voucher" in text
    # the comment above the next trigger stays with it, the cut one's goes
    assert [t.id for t in merged.triggers][-1] == "low_balance"


def test_merging_an_edited_file_again_replaces_the_earlier_one() -> None:
    bundled = default_catalogue()
    once = load_catalogue(merge_sources(bundled.sources, [("my.yaml", VIDEO)]))
    edited = VIDEO.replace("count: 2", "count: 3")
    twice = load_catalogue(merge_sources(once.sources, [("/elsewhere/my.yaml", edited)]))
    assert diff(once, twice) == ["~ trigger video_binge v1: params.count"]
    assert [name for name, _text in twice.sources] == [
        "defaults/venues.yaml", "defaults/triggers.yaml", "/elsewhere/my.yaml"]


def test_a_policy_replaces_the_one_in_force_and_the_last_trigger_is_cut_to_the_end() -> None:
    bundled = default_catalogue()
    policy = "policy:\n  caps:\n    - {count: 1, within: 24h}\n"
    last = bundled.triggers[-1].id
    mine = _bundled_trigger(last, 3)
    merged = load_catalogue(merge_sources(bundled.sources, [("policy.yaml", policy),
                                                            ("mine.yaml", mine)]))
    assert diff(bundled, merged) == [f"~ trigger {last} v1 -> v3: version only",
                                     "~ policy: caps"]
    assert "policy:" not in dict(merged.sources)["defaults/triggers.yaml"]
    listing = export(merged.sources)
    assert listing.count("# file: ") == 4 and listing.count("\n---\n") == 3


def test_a_flow_style_list_cannot_be_cut_by_lines_and_says_so() -> None:
    with pytest.raises(CatalogueRejected) as refused:
        merge_sources([("flow.yaml", "triggers: [{id: video_binge}, {id: other}]\n")],
                      [("video.yaml", VIDEO)])
    assert "flow-style" in str(refused.value.problems[0])
