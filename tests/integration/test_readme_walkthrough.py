"""README.md, "Broker, worker, replay, explain", run as written: its commands are parsed from
the README (so the README cannot drift from what works) and run as child processes against the
session's embedded broker (which stands in for `cjo broker`: the test cannot take port 9092).

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

import pytest

from cjo.adapters.broker import Broker
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


@pytest.mark.parametrize("time_mode", ["as written", "live"])
def test_the_readme_walkthrough_works_as_written(embedded_broker: Broker, unique_prefix: str,
                                                 tmp_path: Path, time_mode: str) -> None:
    broker = embedded_broker
    commands = walkthrough()
    assert commands[0] == "cjo broker"
    env = {**os.environ, "CJO_TOPIC_PREFIX": unique_prefix, "CJO_APP_ID": f"{unique_prefix}-app",
           "CJO_PARTITIONS": "2"}
    env.pop("CJO_TIME_MODE", None)
    env.pop("CJO_DEVELOPMENT", None)  # as in a new shell: the README says it is a development run
    env.pop("CJO_EMBEDDED_BROKER_WORKAROUNDS", None)  # as in a new shell: the embedded broker's
    settings = load(broker=broker.bootstrap, topic_prefix=unique_prefix, partitions=2)
    worker: subprocess.Popen[bytes] | None = None
    worker_log = tmp_path / "worker.log"
    outputs: dict[str, str] = {}
    try:
        for line in commands[1:]:
            if line.startswith("export "):
                name, value = line.removeprefix("export ").split("=", 1)
                assert (name, value) == ("CJO_BROKER", "127.0.0.1:9092")  # cjo broker's port
                env["CJO_BROKER"] = broker.bootstrap  # where the session's broker listens
                continue
            extra, words = _split(line)
            if words[:2] == ["cjo", "worker"]:
                # beside the worker, as promised
                assert extra == {"CJO_TIME_MODE": "replay", "CJO_DEVELOPMENT": "true"}
                if time_mode == "live":
                    extra = {"CJO_DEVELOPMENT": "true"}
                with worker_log.open("wb") as log:
                    worker = subprocess.Popen(_cjo(words), env={**env, **extra}, cwd=tmp_path,
                                              stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL)
                continue
            done = subprocess.run(_cjo(words), env={**env, **extra}, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=300, check=False)
            assert done.returncode == 0, f"{line}: {done.stderr}"
            outputs[words[1]] = done.stdout
            if words[1] == "replay":
                assert worker is not None
                _wait_consumed(broker.bootstrap, env["CJO_APP_ID"],
                               list(settings.topics.inputs().values()), worker, worker_log)
        assert worker is not None
        worker.terminate()
        assert worker.wait(60) == 0
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
    explained = outputs["explain"]
    assert re.match(r"IMSI 234150000000003: \d+ decisions", explained), explained
    assert "  reasons      " in explained
    assert outputs["report"]
    records = [json.loads(line) for line in worker_log.read_text().splitlines() if line]
    # every line is JSON (parsed above), faust's and aiokafka's included
    assert any(r.get("logger", "").startswith(("faust", "mode", "aiokafka")) for r in records)
    stale = [r for r in records if r.get("event") == "input_hours_behind_wall_clock"]
    if time_mode == "live":
        assert len(stale) == 1 and "CJO_TIME_MODE=replay" in stale[0]["hint"]
        assert "EXPIRED" in explained and "late:" in explained
    else:
        assert stale == []
        assert "EXPIRED" not in explained.split("\n", 2)[1]  # the newest is not expired
