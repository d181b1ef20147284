"""Usual mistakes at the `cjo` command line end in one line on stderr and a non-zero exit,
before anything starts: never a traceback. And every flag says what it does."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from cjo import __version__
from cjo.catalogue.validate import DEFAULTS_DIR
from cjo.cli import _parser, main

TRIGGERS = str(DEFAULTS_DIR / "triggers.yaml")
VENUES = str(DEFAULTS_DIR / "venues.yaml")


def _commands(tmp: Path) -> dict[str, list[str]]:
    """Each command with one path that cannot be used (missing file, missing directory, a
    directory where a file is expected)."""
    log = tmp / "log.jsonl"
    missing, nodir = str(tmp / "MISSING.jsonl"), str(tmp / "no-such-dir" / "out.jsonl")
    return {
        "demo --events": ["demo", "--events", missing],
        "demo --events DIR": ["demo", "--events", str(tmp)],
        "demo --out": ["demo", "--out", nodir],
        "demo --decisions": ["demo", "--decisions", nodir],
        "demo --catalogue": ["demo", "--catalogue", str(tmp / "MISSING.yaml")],
        "replay": ["replay", missing, "--broker", "127.0.0.1:1"],
        "worker --data-dir FILE": ["worker", "--data-dir", str(log), "--broker", "127.0.0.1:1"],
        "worker --data-dir": ["worker", "--data-dir", str(log / "state"), "--broker",
                              "127.0.0.1:1"],
        "simulate --out": ["simulate", "--subscribers", "1", "--days", "1", "--out", nodir],
        "catalogue validate": ["catalogue", "validate", str(tmp / "MISSING.yaml")],
        "catalogue show": ["catalogue", "show", str(tmp / "MISSING.yaml")],
        "catalogue apply": ["catalogue", "apply", str(tmp / "MISSING.yaml"), "--broker",
                            "127.0.0.1:1"],
        "catalogue try --log": ["catalogue", "try", VENUES, TRIGGERS, "--log", missing],
        "catalogue try FILE": ["catalogue", "try", str(tmp / "MISSING.yaml"), "--log",
                               str(log)],
        "catalogue try --decisions": ["catalogue", "try", VENUES, TRIGGERS, "--log", str(log),
                                      "--decisions", nodir],
    }


@pytest.mark.parametrize("name", list(_commands(Path("/x"))))
def test_an_unusable_path_is_one_line(name: str, tmp_path: Path,
                                      capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "log.jsonl").write_text("")
    argv = _commands(tmp_path)[name]
    code = main(argv)
    out, err = capfd.readouterr()
    assert code != 0, out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "MISSING" in lines[0] or "no-such-dir" in lines[0] or str(tmp_path) in lines[0]
    assert not (tmp_path / "no-such-dir").exists()  # a typo'd directory is not created


def test_catalogue_apply_checks_its_files_first(tmp_path: Path,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    """A missing catalogue file is named before the broker is even asked (127.0.0.1:1)."""
    main(["catalogue", "apply", str(tmp_path / "MISSING.yaml"), "--broker", "127.0.0.1:1"])
    assert "cannot read the file" in capfd.readouterr().err


def _actions(parser: argparse.ArgumentParser, path: str = "cjo"
             ) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _actions(child, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            found.append((path, action))
    return found


def test_every_flag_and_argument_has_help_and_shows_its_default() -> None:
    actions = _actions(_parser())
    assert len(actions) > 40
    for path, action in actions:
        assert action.help, f"{path} {action.option_strings or action.dest}: no help"
    help_text = {path: _sub(path).format_help() for path, _ in actions}
    assert "(default: 8)" in help_text["cjo demo"]
    assert "(default: 600.0)" in help_text["cjo demo"]
    assert "(default: 20)" in help_text["cjo explain"]
    assert "CJO_BROKER" in help_text["cjo report"]


def _sub(path: str) -> argparse.ArgumentParser:
    parser = _parser()
    for name in path.split()[1:]:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def test_top_level_help_is_for_users_and_version_is_shown(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"cjo {__version__}"
    text = _parser().format_help()
    assert "cjo demo" in text and "Start here" in text
    assert "hands over to streams/" not in text  # not a note to developers


@pytest.mark.parametrize("argv", [
    ["simulate", "--subscribers", "1", "--days", "1", "--out", "log.jsonl"],
    ["respond", "--once", "--broker", "127.0.0.1:1"],
])
def test_without_the_simulator_its_commands_say_so_in_one_line(
        argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    """An install from the wheel has no ``sim`` package: cjo simulate and cjo respond name it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "sim", None)  # an import of sim now fails, as in the wheel
    monkeypatch.delitem(sys.modules, "sim.kafka_responder", raising=False)
    assert main(argv) != 0
    err = capfd.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"cjo {argv[0]} needs the simulator (sim/)" in err
    assert not (tmp_path / "log.jsonl").exists()


@pytest.mark.parametrize(("argv", "expected"), [
    (["demo", "--speeed", "3"], "cjo demo: error: unrecognized arguments: --speeed (did you "
                                "mean --speed?)"),
    # never abbreviated: --partition is not silently --partitions
    (["demo", "--partition", "4"], "cjo demo: error: unrecognized arguments: --partition (did "
                                   "you mean --partitions?)"),
    (["catalogue", "apply", "x.yaml", "--merg"], "cjo catalogue apply: error: unrecognized "
                                                 "arguments: --merg (did you mean --merge?)"),
])
def test_a_misspelt_flag_is_refused_by_its_command_with_a_suggestion(
        argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: cjo {argv[0]}")  # its own usage, not the top level's
    assert err.rstrip().splitlines()[-1] == expected


def test_a_bad_setting_names_the_variable_and_its_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text("")
    monkeypatch.setenv("CJO_TIME_MODE", "fast")
    assert main(["replay", str(log)]) == 2
    assert capsys.readouterr().err == ("cjo: invalid setting: CJO_TIME_MODE='fast': Input "
                                       "should be 'live' or 'replay'\n")
    monkeypatch.delenv("CJO_TIME_MODE")
    monkeypatch.setenv("CJO_REPLICATION_FACTOR", "0")  # a rule across settings names them
    assert main(["replay", str(log)]) == 2
    assert capsys.readouterr().err == ("cjo: invalid setting: CJO_REPLICATION_FACTOR must be -1 "
                                       "(the brokers' default) or at least 1\n")


def test_a_misspelt_cjo_variable_is_warned_about(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CJO_TIME_MOD", "replay")
    monkeypatch.setenv("CJO_NOTHING_LIKE_IT", "1")
    monkeypatch.setenv("CJO_KAFKA_CACHE", "/tmp")  # not a setting, but cjo's own
    assert main(["catalogue", "validate", TRIGGERS, VENUES]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "cjo: warning: CJO_NOTHING_LIKE_IT is not a cjo setting, ignored (docs/settings.md "
        "lists them)",
        "cjo: warning: CJO_TIME_MOD is not a cjo setting, ignored (did you mean CJO_TIME_MODE?)"]


def test_output_cut_short_by_the_reader_is_no_error() -> None:
    """``cjo ... | head``: the reader leaves; no 'Broken pipe' line, the status of SIGPIPE."""
    cjo = subprocess.Popen([sys.executable, "-m", "cjo", "simulate", "--subscribers", "50",
                            "--days", "2", "--out", "-"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    assert cjo.stdout is not None and cjo.stderr is not None
    assert cjo.stdout.readline().startswith(b"{")
    cjo.stdout.close()  # as head does after its lines
    assert cjo.stderr.read() == b""
    assert cjo.wait(60) == 141
