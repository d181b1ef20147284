"""`cjo catalogue diff | apply` with nothing applied yet compare with what the workers run (the
bundled default or CJO_CATALOGUE's files), show every removal and ask before removing triggers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from cjo.adapters.catalogue_commands import ask_on_terminal, run_apply, run_diff
from cjo.adapters.catalogue_topic import read_live
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
