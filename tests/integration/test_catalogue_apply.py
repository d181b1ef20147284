"""`cjo catalogue diff | apply` with nothing applied yet compare with what the workers run (the
bundled default or CJO_CATALOGUE's files), show every removal and ask before removing triggers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from cjo.adapters.catalogue_commands import (
    ask_on_terminal,
    run_apply,
    run_diff,
    run_history,
    run_rollback,
    run_show,
)
from cjo.adapters.catalogue_topic import history, read_live
from cjo.catalogue.validate import DEFAULTS_DIR, default_catalogue
from cjo.errors import ConfigError
from cjo.settings import Settings, load
from tests.integration.test_hot_reload import VIDEO_ONLY

pytestmark = pytest.mark.integration

BUNDLED = [DEFAULTS_DIR / "venues.yaml", DEFAULTS_DIR / "triggers.yaml"]


@pytest.fixture
def settings(broker: Broker, unique_prefix: str) -> Settings:
    return load(broker=broker.bootstrap, topic_prefix=unique_prefix, partitions=1)


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "video.yaml"
    path.write_text(VIDEO_ONLY)
    return path


def test_diff_with_nothing_applied_shows_every_bundled_trigger_removed(
        settings: Settings, video: Path) -> None:
    out = io.StringIO()
    assert run_diff(settings, [video], out=out) == 1
    lines = out.getvalue().splitlines()
    assert "the bundled default" in lines[0]
    removed = sorted(line.split()[-1] for line in lines if line.startswith("- trigger "))
    assert removed == sorted(t.id for t in default_catalogue().triggers)
    assert "+ trigger video_binge (count, v1)" in lines


def test_diff_against_cjo_catalogue_files_when_nothing_applied(
        broker: Broker, unique_prefix: str, video: Path) -> None:
    settings = load(broker=broker.bootstrap, topic_prefix=unique_prefix, partitions=1,
                    catalogue=str(video))
    out = io.StringIO()
    assert run_diff(settings, [video], out=out) == 0
    assert f"CJO_CATALOGUE ({video})" in out.getvalue()
    assert out.getvalue().splitlines()[-1] == "no changes"


def test_apply_asks_before_removing_triggers_and_yes_applies(
        settings: Settings, video: Path) -> None:
    asked: list[str] = []

    def decline(question: str) -> bool:
        asked.append(question)
        return False

    out = io.StringIO()
    assert run_apply(settings, [video], out=out, ask=decline) == 1
    bundled = len(default_catalogue().triggers)  # every one of them is removed
    assert asked and asked[0].startswith(f"remove {bundled} trigger(s) (roaming_welcome, ")
    assert out.getvalue().count("\n- trigger ") == bundled
    assert "nothing applied" in out.getvalue()
    assert read_live(settings).catalogue is None  # nothing published

    assert run_apply(settings, [video], out=io.StringIO(), yes=True) == 0
    live = read_live(settings).catalogue
    assert live is not None and [t.id for t in live.triggers] == ["video_binge"]


def test_apply_without_a_terminal_refuses_in_one_line(
        settings: Settings, video: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # a pipe: not a terminal
    with pytest.raises(ConfigError) as refused:
        run_apply(settings, [video], out=io.StringIO(), ask=ask_on_terminal)
    message = str(refused.value)
    assert "\n" not in message and "--yes" in message and "roaming_welcome" in message
    assert f"cjo catalogue apply --merge {video}" in message  # the likely intent, named
    assert read_live(settings).catalogue is None


def test_applying_the_bundled_files_with_nothing_applied_changes_nothing(
        settings: Settings) -> None:
    out = io.StringIO()
    assert run_apply(settings, BUNDLED, out=out) == 0
    assert "already in force" in out.getvalue()
    assert read_live(settings).catalogue is None


def test_adding_a_trigger_needs_no_confirmation(settings: Settings, video: Path) -> None:
    def refuse(question: str) -> bool:
        raise AssertionError(f"asked {question!r} though nothing is removed")

    assert run_apply(settings, [*BUNDLED, video], out=io.StringIO(), ask=refuse) == 0
    live = read_live(settings).catalogue
    assert live is not None and "video_binge" in [t.id for t in live.triggers]


def test_merge_show_history_and_rollback_on_the_catalogue_topic(
        settings: Settings, video: Path, tmp_path: Path) -> None:
    def refuse(question: str) -> bool:
        raise AssertionError(f"asked {question!r} though nothing is removed")

    bundled = default_catalogue()
    out = io.StringIO()
    assert run_apply(settings, [video], out=out, ask=refuse, merge=True) == 0
    assert "+ trigger video_binge (count, v1)" in out.getvalue()
    assert "- trigger" not in out.getvalue()
    first = read_live(settings).catalogue
    assert first is not None
    assert [t.id for t in first.triggers] == [*(t.id for t in bundled.triggers), "video_binge"]

    shown = io.StringIO()  # the YAML in force, every file of it
    assert run_show(settings, None, out=shown) == 0
    assert f"# catalogue {first.digest}" in shown.getvalue()
    assert "  - id: roaming_welcome" in shown.getvalue() and "id: video_binge" in shown.getvalue()
    exported = tmp_path / "exported"
    exported.mkdir()
    assert run_show(settings, exported, out=io.StringIO()) == 0
    files = sorted(exported.iterdir())
    again = io.StringIO()  # written out and applied as they are: the same catalogue
    assert run_apply(settings, files, out=again, ask=refuse) == 0
    assert "already in force" in again.getvalue()

    video.write_text(video.read_text().replace("count: 2", "count: 3"))
    assert run_apply(settings, [video], out=io.StringIO(), ask=refuse, merge=True) == 0
    second = read_live(settings).catalogue
    assert second is not None and second.digest != first.digest
    assert [a.digest for a in history(settings)] == [first.digest, second.digest]
    listed = io.StringIO()
    assert run_history(settings, out=listed) == 0
    assert f"{second.digest}  last applied" in listed.getvalue()
    assert listed.getvalue().rstrip().endswith("<- in force")

    rolled = io.StringIO()
    assert run_rollback(settings, first.digest[:6], out=rolled, ask=refuse) == 0
    assert "~ trigger video_binge v1: params.count" in rolled.getvalue()
    back = read_live(settings).catalogue
    assert back is not None and back.digest == first.digest
    with pytest.raises(ConfigError, match=r"no catalogue .* has digest 'ffffff'"):
        run_rollback(settings, "ffffff", out=io.StringIO(), ask=refuse)
