"""README.md, "Broker, worker, replay, explain", run as written, twice in a row: its commands are
parsed from the README (so the README cannot drift from what works) and run as child processes
against embedded brokers (which stand in for `cjo broker`: the test cannot take port 9092).

In live time mode (the README's worker without ``CJO_TIME_MODE=replay``) the same log expires
everything: the worker then says so once, naming the setting."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cjo.adapters.broker import Broker, EmbeddedBroker
from cjo.adapters.kafka_admin import committed_offsets, end_offsets
from cjo.settings import load

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Broker, worker, replay, explain"


def walkthrough() -> list[str]:
    """The commands of the section's first ``sh`` block, comments stripped."""
    text = README.read_text()
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def _cjo(words: list[str]) -> list[str]:
    assert words[0] == "cjo", words
    return [sys.executable, "-m", "cjo", *words[1:]]


def _split(line: str) -> tuple[dict[str, str], list[str]]:
    """``A=1 B=2 cjo ...`` -> ({A: 1, B: 2}, [cjo, ...])."""
    words = shlex.split(line)
    env = {}
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    return env, words


def _wait_consumed(broker: str, group: str, topics: list[str], worker: subprocess.Popen[bytes],
                   log: Path) -> None:
    ends = end_offsets(broker, topics)
    deadline = time.monotonic() + 180
    while True:
        committed = committed_offsets(broker, group, topics)
        if all(committed.get(tp, -1) >= end for tp, end in ends.items() if end > 0):
            return
        assert worker.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"worker did not catch up: {log.read_text()}"
        time.sleep(0.5)


def _walk(broker: Broker, commands: list[str], env: dict[str, str], cwd: Path,
          live: bool, worker_log: Path, second_worker: bool = False) -> dict[str, str]:
    """The walkthrough's commands after ``cjo broker``, in ``cwd`` (its ``./data`` kept from one
    walk to the next); each command's standard output. ``second_worker``: while the worker runs,
    a second one on the same data directory must be refused."""
    settings = load(broker=broker.bootstrap, topic_prefix=env["CJO_TOPIC_PREFIX"], partitions=2)
    worker: subprocess.Popen[bytes] | None = None
    outputs: dict[str, str] = {}
    try:
        for line in commands:
            if line.startswith("export "):
                name, value = line.removeprefix("export ").split("=", 1)
                assert (name, value) == ("CJO_BROKER", "127.0.0.1:9092")  # cjo broker's port
                env["CJO_BROKER"] = broker.bootstrap  # where the test's broker listens
                continue
            extra, words = _split(line)
            if words[:2] == ["cjo", "worker"]:
                # beside the worker, as promised
                assert extra == {"CJO_TIME_MODE": "replay", "CJO_DEVELOPMENT": "true"}
                if live:
                    extra = {"CJO_DEVELOPMENT": "true"}
                with worker_log.open("wb") as log:
                    worker = subprocess.Popen(_cjo(words), env={**env, **extra}, cwd=cwd,
                                              stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL)
                continue
            done = subprocess.run(_cjo(words), env={**env, **extra}, cwd=cwd,
                                  capture_output=True, text=True, timeout=300, check=False)
            assert done.returncode == 0, f"{line}: {done.stderr}"
            outputs[words[1]] = done.stdout
            if words[1] == "replay":
                assert worker is not None
                _wait_consumed(broker.bootstrap, env["CJO_APP_ID"],
                               list(settings.topics.inputs().values()), worker, worker_log)
                if second_worker:
                    _second_worker_is_refused(env, cwd)
        assert worker is not None
        worker.terminate()
        assert worker.wait(60) == 0
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
    return outputs


def _second_worker_is_refused(env: dict[str, str], cwd: Path) -> None:
    second = subprocess.run(_cjo(["cjo", "worker"]), env={**env, "CJO_TIME_MODE": "replay",
                                                          "CJO_DEVELOPMENT": "true"},
                            cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 2, second.stdout + second.stderr
    assert second.stderr.strip().splitlines()[-1].startswith(
        "cjo: data directory data is in use by another worker (pid "), second.stderr


def _worker_records(log: Path) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in log.read_text().splitlines() if line]
    # every line is JSON (parsed above), faust's and aiokafka's included
    assert any(r.get("logger", "").startswith(("faust", "mode", "aiokafka")) for r in records)
    return records


def test_the_readme_walkthrough_works_as_written_twice_in_a_row(
        embedded_broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    """Walked twice in the same directory, each time on an embedded broker of its own (as after
    Ctrl-C on ``cjo broker`` and a new one): the second walk's worker starts on the ``./data``
    the first left, which belonged to the broker that is gone. The first walk runs its worker in
    live time mode (without ``CJO_TIME_MODE=replay``), where the log, dated in the past,
    expires: the worker says so once, naming the setting; meanwhile a second worker on the same
    ``./data`` is refused. The second walk is exactly as written."""
    commands = walkthrough()
    assert commands[0] == "cjo broker"
    env = {**os.environ, "CJO_TOPIC_PREFIX": unique_prefix, "CJO_APP_ID": f"{unique_prefix}-app",
           "CJO_PARTITIONS": "2"}
    env.pop("CJO_TIME_MODE", None)
    env.pop("CJO_DEVELOPMENT", None)  # as in a new shell: the README says it is a development run
    env.pop("CJO_EMBEDDED_BROKER_WORKAROUNDS", None)  # as in a new shell: the embedded broker's
    live_log, worker_log = tmp_path / "live-worker.log", tmp_path / "worker.log"

    live = _walk(embedded_broker, commands[1:], env, tmp_path, True, live_log,
                 second_worker=True)
    explained = live["explain"]
    assert re.match(r"IMSI 234150000000003: \d+ decisions", explained), explained
    records = _worker_records(live_log)
    stale = [r for r in records if r.get("event") == "input_hours_behind_wall_clock"]
    assert len(stale) == 1 and "CJO_TIME_MODE=replay" in stale[0]["hint"]
    assert "EXPIRED" in explained and "late:" in explained
    # the refused second worker never joined: no rebalance, no false faust errors
    assert "is hanging" not in live_log.read_text()

    with EmbeddedBroker() as again:
        outputs = _walk(again, commands[1:], env, tmp_path, False, worker_log)
    assert len(list((tmp_path / "data").glob("cluster-*"))) == 2  # one per broker
    explained = outputs["explain"]
    assert re.match(r"IMSI 234150000000003: \d+ decisions?", explained), explained
    assert "  reasons      " in explained
    assert outputs["report"]
    records = _worker_records(worker_log)
    assert [r for r in records if r.get("event") == "input_hours_behind_wall_clock"] == []
    assert "EXPIRED" not in explained.split("\n", 2)[1]  # the newest is not expired
    # it named the first broker's state, which it left alone
    assert [r["others"] for r in records if r.get("event") == "data_dir_of_other_clusters"]
