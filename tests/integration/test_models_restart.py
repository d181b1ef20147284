"""Models survive a restart: a new worker (its RocksDB wiped) scores with the newest snapshot
from the first moment, and its learner carries on from it instead of starting over."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cjo import codec
from cjo.adapters.broker import Broker
from cjo.adapters.control_topics import read_models
from cjo.adapters.kafka_admin import read_all
from cjo.control_records import models_key
from cjo.scoring import Scorer
from sim.kafka_responder import Responder
from tests.integration.pipeline import Pipeline, write_log
from tests.integration.test_learning import wait_for_examples
from tests.scenarios.learning import CATALOGUE, arrivals, evenings, profiles

pytestmark = pytest.mark.integration

SUBSCRIBERS = 40


def play_day(pipeline: Pipeline, responder: Responder, tmp_path: Path, day: int) -> None:
    pipeline.replay(write_log(tmp_path / f"a{day}.jsonl", arrivals(SUBSCRIBERS, day)))
    pipeline.wait()
    responder.answer_new_offers()
    pipeline.wait()
    pipeline.replay(write_log(tmp_path / f"e{day}.jsonl", evenings(SUBSCRIBERS, day)))
    pipeline.wait()


def test_a_restarted_worker_scores_and_learns_from_the_newest_snapshot(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    catalogue = tmp_path / "learning.yaml"
    catalogue.write_text(CATALOGUE.replace("holdout_pct: 10", "holdout_pct: 0"))
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=2,
                        catalogue=str(catalogue))
    responder = Responder(pipeline.settings, seed=5)
    try:
        pipeline.start_worker("first")
        pipeline.replay(write_log(tmp_path / "profiles.jsonl", profiles(SUBSCRIBERS)))
        for day in range(2):
            play_day(pipeline, responder, tmp_path, day)
        before = wait_for_examples(pipeline, 2 * SUBSCRIBERS)
        pipeline.stop()
        shutil.rmtree(pipeline.settings.data_dir)

        pipeline.start_worker("second")
        play_day(pipeline, responder, tmp_path, 2)
        after = wait_for_examples(pipeline, 3 * SUBSCRIBERS)
    finally:
        pipeline.stop()
    decisions = [codec.decode(r.value or b"")[1] for r in read_all(
        pipeline.settings.broker, [pipeline.topics["decisions"]])]
    day2 = [d for d in decisions if d["trigger_time"] >= max(
        x["trigger_time"] for x in decisions) - 12 * 3_600_000]
    assert len(day2) == SUBSCRIBERS
    assert min(d["model_version"] for d in day2) >= before.version  # not a fresh model
    assert after.examples("roaming_welcome") == 3 * SUBSCRIBERS  # carried on, none twice
    assert after.version > before.version
    newest = read_models(pipeline.settings).value
    assert newest is not None
    assert Scorer.from_bytes(newest, models_key(pipeline.settings)).version == after.version
