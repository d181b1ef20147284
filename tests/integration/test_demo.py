"""`cjo demo --catalogue FILE --decisions FILE` on a small simulated log: the worker runs that
catalogue, every decision lands in the file with its reasons, the summary counts outcomes per
reason; and a demo that fails keeps the worker's log and prints where it is."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cjo.adapters.demo import DemoOptions, run_demo
from cjo.cli import main
from sim import simulate, write_log
from tests.integration.test_hot_reload import VIDEO_ONLY

pytestmark = pytest.mark.integration


@pytest.fixture
def small_log(tmp_path: Path) -> Path:
    path = tmp_path / "day.jsonl"
    with path.open("w") as out:
        write_log(simulate(subscribers=20, days=1, seed=7), out)
    return path


def test_demo_runs_the_given_catalogue_and_writes_every_decision(
        small_log: Path, tmp_path: Path) -> None:
    catalogue = tmp_path / "video.yaml"
    catalogue.write_text(VIDEO_ONLY)
    decisions = tmp_path / "decisions.jsonl"
    out = io.StringIO()
    assert run_demo(DemoOptions(events=small_log, partitions=2, timeout_s=180,
                                catalogue=(catalogue,), decisions=decisions), out) == 0
    rows = [json.loads(line) for line in decisions.read_text().splitlines()]
    assert rows and {r["trigger_id"] for r in rows} == {"video_binge"}
    assert all(r["reasons"] for r in rows)
    text = out.getvalue()
    assert f"wrote {len(rows)} decisions (with their reasons) to {decisions}" in text
    assert "decisions by outcome and reason:" in text
    assert "end offsets" not in text  # behind --verbose


def test_a_failed_demo_keeps_the_worker_log(small_log: Path,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--events", str(small_log), "--partitions", "2", "--timeout", "0"])
    err = capfd.readouterr().err
    assert code == 2
    kept = re.search(r"the worker's log is kept: (\S+)", err)
    assert kept is not None, err
    path = Path(kept.group(1))
    try:
        assert path.is_file()
        assert f"worker log: {path}" in err  # the timeout names the same, kept, file
    finally:
        path.unlink(missing_ok=True)


@pytest.fixture
def three_channel_log(tmp_path: Path) -> Path:
    """A day of 20 subscribers whose offers go out on push, SMS and e-mail (10 offers, 4 of
    them SMS, by `cjo catalogue try`): seed 7's small log sends none by SMS."""
    path = tmp_path / "three-channels.jsonl"
    with path.open("w") as out:
        write_log(simulate(subscribers=20, days=1, seed=8), out)
    return path


@pytest.mark.kafka
def test_cjo_demo_kafka_prints_offers(three_channel_log: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "cjo", "demo", "--kafka", "--events",
                           str(three_channel_log), "--partitions", "2", "--timeout", "240"],
                          capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^Apache Kafka broker on 127\.0\.0\.1:\d+; replaying ", done.stdout,
                     re.MULTILINE), done.stdout
    offers = re.search(r"first \d+ of (\d+) offers:", done.stdout)
    assert offers is not None and int(offers.group(1)) > 0, done.stdout
    # the gateways: each channel's offers answered on cjo.offers.responses, and the loopback
    # endpoint took as many as the responses say were delivered or sent
    lines = re.findall(r"^  (push|email|sms)\s+(.*); the loopback .* took (\d+)$", done.stdout,
                       re.MULTILINE)
    assert {channel for channel, _, _ in lines} >= {"push", "email", "sms"}, done.stdout
    for channel, statuses, took in lines:
        counts = {k: int(v) for v, k in re.findall(r"(\d+) (\w+)", statuses)}
        if channel == "sms":  # SENT when the SMSC took it (a part each), DELIVERED on receipt
            assert 0 < counts.get("SENT", 0) <= int(took), done.stdout
            assert counts.get("DELIVERED", 0) + counts.get("OPTED_OUT", 0) > 0, done.stdout
            continue
        assert counts.get("DELIVERED", 0) + counts.get("SENT", 0) == int(took), done.stdout
    assert sum(int(took) for _, _, took in lines) > 0, done.stdout


def test_ctrl_c_interrupts_the_demo_without_calling_it_a_failure(
        small_log: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"  # where the demo puts its worker's log
    tmp.mkdir()
    demo = subprocess.Popen([sys.executable, "-m", "cjo", "demo", "--events", str(small_log),
                             "--partitions", "1"], env={**os.environ, "TMPDIR": str(tmp)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp.glob("cjo-demo-worker-*.log")):
            assert demo.poll() is None and time.monotonic() < deadline, demo.communicate()
            time.sleep(0.05)
        demo.send_signal(signal.SIGINT)
        _out, err = demo.communicate(timeout=60)
    finally:
        demo.kill()
    assert demo.returncode == 130, err
    assert "demo failed" not in err and err.rstrip().endswith("cjo: interrupted"), err
    assert all(log.stat().st_size > 0 for log in tmp.glob("cjo-demo-worker-*.log"))
