"""deploy/Dockerfile, read (no Docker engine here): multi-stage, the final image holds only the
wheel built in the first stage, and it runs as an unprivileged user."""

from __future__ import annotations

import re

from tests.deploy import manifests as m


def _stages() -> list[list[tuple[str, str]]]:
    """The instructions of each stage: (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", m.DOCKERFILE.read_text())
    stages: list[list[tuple[str, str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        op, _, args = line.partition(" ")
        if op.upper() == "FROM":
            stages.append([])
        stages[-1].append((op.upper(), args.strip()))
    return stages


def test_multi_stage_and_the_image_gets_the_wheel_only() -> None:
    stages = _stages()
    assert len(stages) >= 2
    build_name = stages[0][0][1].split()[-1]
    final = stages[-1]
    copies = [args for op, args in final if op in ("COPY", "ADD")]
    assert copies, "the final stage copies the built wheel"
    for args in copies:  # nothing from the checkout: only the first stage's wheels
        assert args.startswith(f"--from={build_name} "), args
        assert "wheel" in args, args
    run = " ".join(args for op, args in final if op == "RUN")
    assert re.search(r"pip install [^&]*\.whl", run)
    assert not any(op == "COPY" and "--from" not in args for op, args in final)


def test_runs_as_an_unprivileged_user() -> None:
    final = _stages()[-1]
    users = [args for op, args in final if op == "USER"]
    assert users, "the final stage names a user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # what runs is cjo, on the port the probes and Prometheus use
    entry = [args for op, args in final if op == "ENTRYPOINT"]
    assert entry and "cjo" in entry[-1]
    assert any(op == "EXPOSE" and "6066" in args for op, args in final)
