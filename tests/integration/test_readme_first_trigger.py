"""README.md, "Your first trigger", run as written: its YAML saved as ``my.yaml`` and the
commands of its two ``sh`` blocks run by ``cjo``'s own entry point (the first without a broker;
the second against the session's broker, on topics of its own, ``rollback DIGEST`` with the
digest ``history`` printed). The README cannot drift from what works."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from cjo.cli import main

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Your first trigger"


def section() -> tuple[str, list[list[list[str]]]]:
    """The section's YAML, and the commands of each of its ``sh`` blocks (comments stripped)."""
    text = README.read_text()
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    yaml = re.search(r"```yaml\n(.*?)```", body, re.DOTALL)
    assert yaml is not None
    blocks = [[shlex.split(line.split("#", 1)[0]) for line in block.splitlines()
               if line.split("#", 1)[0].strip()]
              for block in re.findall(r"```sh\n(.*?)```", body, re.DOTALL)]
    return yaml.group(1), blocks


def test_your_first_trigger_works_as_written(broker: Broker, unique_prefix: str,
                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    yaml, (offline, live) = section()
    monkeypatch.chdir(tmp_path)
    Path("my.yaml").write_text(yaml)
    for words in offline:
        assert words[0] == "cjo", words
        assert main(words[1:]) == 0, capsys.readouterr().err
    tried = capsys.readouterr().out
    assert re.search(r"video_binge +.*SENT \d+", tried), tried  # the new trigger fires
    assert re.search(r"IMSI \d+: \d+ decisions", tried) and "SENT" in tried.split("IMSI", 1)[1]

    monkeypatch.setenv("CJO_BROKER", broker.bootstrap)
    monkeypatch.setenv("CJO_TOPIC_PREFIX", unique_prefix)
    outputs: dict[str, str] = {}
    for words in live:
        assert words[:2] == ["cjo", "catalogue"], words
        if words[-1] == "DIGEST":
            words[-1] = re.findall(r"^  ([0-9a-f]{12})  ", outputs["history"], re.M)[0]
        code = main(words[1:])
        outputs[words[2]] = capsys.readouterr().out
        assert code == (1 if words[2] == "diff" else 0), outputs[words[2]]  # diff: changes
    assert "+ trigger video_binge (count, v1)" in outputs["diff"]
    assert "- trigger" not in outputs["diff"] + outputs["apply"]  # the bundled ones stay
    assert "applied catalogue" in outputs["apply"]
    assert "id: video_binge" in outputs["show"] and "id: roaming_welcome" in outputs["show"]
    assert "<- in force" in outputs["history"]
