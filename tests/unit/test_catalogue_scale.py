"""A catalogue at an operator's scale (issue 21, point 4): 500 enabled triggers (the bundled ones
copied under new ids, ``bench.scaled_catalogue``) validate in one file, decide for the bundled ids
what the bundled catalogue decides, and are evaluated once per distinct detection (same kind and
params) without changing any result; the alias-bomb bound still holds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.scaled_catalogue import scaled_sources
from cjo.catalogue import source
from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.validate import default_catalogue, load_catalogue
from cjo.codec import LogRecord
from cjo.engine.offline import read_log, run_offline
from cjo.engine.runner import Knowledge, MemoryStore, PartitionRunner
from cjo.errors import CatalogueError
from cjo.state import Position
from cjo.timers import Watermark
from cjo.triggers import plan as plan_module
from tests.unit.test_control_records import alias_bomb

SAMPLE = Path(__file__).resolve().parents[2] / "cjo" / "samples" / "sample.jsonl"


@pytest.fixture(scope="module")
def big() -> Catalogue:
    return load_catalogue(scaled_sources(500))


@pytest.fixture(scope="module")
def records() -> list[LogRecord]:
    """An eighth of the sample's subscribers, each with all its records."""
    every, _bad = read_log(SAMPLE)
    imsis = sorted({r.value["imsi"] for r in every})
    keep = set(imsis[::8])
    return [r for r in every if r.value["imsi"] in keep]


def test_a_500_trigger_file_validates(big: Catalogue) -> None:
    triggers = next(text for name, text in big.sources if name.endswith("triggers.yaml"))
    assert source.max_values(triggers) > source.MAX_NODES  # beyond the old fixed bound
    assert len(big.enabled()) == 500
    assert Counter(t.kind for t in big.enabled())["geofence"] > 100


def test_the_alias_bomb_is_still_refused_and_says_what_to_do() -> None:
    with pytest.raises(CatalogueError, match="alias bomb") as info:
        source.parse("bomb.yaml", alias_bomb())
    assert "write the repeated parts out" in str(info.value)


def test_aliases_of_a_long_text_may_not_outgrow_its_length() -> None:
    """The bound follows the text: a long file may hold more values, but aliases can never
    expand it beyond one value per ``CHARS_PER_VALUE`` characters."""
    filler = "#" * (source.MAX_NODES * source.CHARS_PER_VALUE * 2) + "\n"  # bound 40,000
    bomb = filler + alias_bomb()
    assert source.max_values(bomb) >= 2 * source.MAX_NODES
    with pytest.raises(CatalogueError, match="alias bomb"):
        source.parse("long-bomb.yaml", bomb)
    fine = filler + "a: &a [" + ",".join(["x"] * 100) + "]\n" + "".join(
        f"b{i}: *a\n" for i in range(300))  # 30,000 values: within 40,000
    assert len(source.parse("long.yaml", fine).value) == 301


def test_a_dense_text_is_refused_with_a_hint() -> None:
    text = "triggers: [" + ",".join(["1"] * (source.MAX_NODES + 1)) + "]\n"
    with pytest.raises(CatalogueError, match="split a long list") as info:
        source.parse("dense.yaml", text)
    assert "alias" not in str(info.value)


def test_the_bundled_ids_decide_as_with_the_bundled_catalogue(
        big: Catalogue, records: list[LogRecord]) -> None:
    bundled = run_offline(records, default_catalogue())
    scaled = run_offline(records, big)
    ids = {t.id for t in default_catalogue().triggers}
    assert bundled.decisions  # something to compare
    # alike but for the policy version, which names the catalogue's digest (issue 19)
    assert [_policy_free(d) for d in scaled.decisions if d["trigger_id"] in ids] == [
        _policy_free(d) for d in bundled.decisions]
    # and the copies fire on the same moments as their originals
    moments = Counter((d["trigger_id"], d["trigger_event_id"]) for d in bundled.decisions)
    for (trigger_id, event_id), _n in moments.items():
        copies = {d["trigger_id"] for d in scaled.decisions
                  if d["trigger_event_id"] == event_id
                  and d["trigger_id"].startswith(f"{trigger_id}_x")}
        assert copies, (trigger_id, event_id)


def _replay(records: list[LogRecord], catalogues: list[Catalogue]) -> list[object]:
    """Every effect of the records, the catalogue switched at equal shares of the log."""
    store = MemoryStore()
    runner = PartitionRunner(store, 0, Watermark(30_000, 0, live=False))
    out: list[object] = []
    share = len(records) // len(catalogues) + 1
    for offset, record in enumerate(records):
        knowledge = Knowledge(catalogues[offset // share])
        step = runner.on_record(record.stream, record.value, Position(record.stream, offset), 0,
                                knowledge)
        store.apply(step.effects.writes)
        out.append((step.effects.decisions, step.effects.offers, sorted(
            (k, v) for k, v in step.effects.writes.items() if v is not None)))
    return out


def test_detecting_once_per_group_changes_nothing(
        big: Catalogue, records: list[LogRecord], monkeypatch: pytest.MonkeyPatch) -> None:
    """Effects and states, record by record, with each trigger run on its own (every trigger its
    own group) and grouped; the copies join half-way (their memories then differ from their
    originals')."""
    ordered = sorted(records, key=lambda r: r.event_time)
    catalogues = [default_catalogue(), big]
    grouped = _replay(ordered, catalogues)
    alone = plan_module.grouped

    def one_per_group(catalogue: Catalogue, stream: str) -> tuple[plan_module.Grouped, ...]:
        return tuple(step._replace(group=index)
                     for index, step in enumerate(alone(catalogue, stream)))

    monkeypatch.setattr("cjo.engine.decide.grouped", one_per_group)
    assert _replay(ordered, catalogues) == grouped


def _policy_free(decision: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in decision.items() if k != "policy_version"}
