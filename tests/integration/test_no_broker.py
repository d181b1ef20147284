"""Every command that talks to a broker, pointed at an address where none answers: one line on
stderr (the address, that no broker answered, how to start one or where to point), within
seconds, exit 2, and no librdkafka log lines (capfd sees the C library's stderr too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cjo.adapters import kafka_admin
from cjo.adapters.broker import free_port
from cjo.catalogue.validate import DEFAULTS_DIR
from cjo.cli import main

pytestmark = pytest.mark.integration

TRIGGERS = str(DEFAULTS_DIR / "triggers.yaml")
VENUES = str(DEFAULTS_DIR / "venues.yaml")
COMMANDS = {
    "worker": ["worker"],
    "replay": ["replay", "LOG"],
    "report": ["report"],
    "explain": ["explain", "234150000000001"],
    "respond": ["respond", "--once"],
    "dnc": ["dnc", "add", "234150000000001"],
    "catalogue apply": ["catalogue", "apply", VENUES, TRIGGERS, "--yes"],
    "catalogue diff": ["catalogue", "diff", VENUES, TRIGGERS],
    "catalogue list": ["catalogue", "list"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_broker_is_one_line(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(kafka_admin, "PROBE_TIMEOUT_S", 1.0)  # the default is 3 s
    log = tmp_path / "log.jsonl"
    log.write_text("")
    address = f"127.0.0.1:{free_port()}"
    argv = [str(log) if arg == "LOG" else arg for arg in COMMANDS[name]]
    code = main([*argv, "--broker", address])
    out, err = capfd.readouterr()
    assert code == 2
    assert err == (f"cjo: no broker answered at {address} within 1 s: start one with "
                   f"`cjo broker` (then export the CJO_BROKER line it prints), or point "
                   f"--broker or CJO_BROKER at yours\n"), err
    assert out == ""


def test_the_environment_names_the_broker_too(monkeypatch: pytest.MonkeyPatch,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(kafka_admin, "PROBE_TIMEOUT_S", 1.0)
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("CJO_BROKER", address)
    assert main(["report"]) == 2
    assert f"no broker answered at {address}" in capfd.readouterr().err
