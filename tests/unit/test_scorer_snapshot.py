"""Scorer snapshots: data only, signed, versioned; a restored scorer is the same scorer.

A snapshot crosses a Kafka topic, so these tests treat it as hostile input: anything but a
snapshot signed with the key is refused with ``SnapshotError`` before it is parsed, and a pickle
is never executed. River's internals the snapshot reads and writes are pinned below.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from river import linear_model, metrics, optim, utils

from cjo.errors import CjoError
from cjo.scoring import Scorer, SnapshotError
from cjo.scoring import snapshot as snap
from cjo.scoring.model import ModelConfig, TriggerModel

KEY = b"test-key"
T = "roaming_welcome"
OFFERS = ["TRAVEL_PASS_1GB_7D", "TRAVEL_PASS_5GB_7D", "DAY_PASS"]
FEATURES = ["youth", "prepaid", "hour_sin", "balance", "roams"]


def random_feats(rng: random.Random) -> dict[str, float]:
    return {name: rng.choice([0.0, 1.0, rng.uniform(-3, 3)]) for name in FEATURES}


def learn_some(scorer: Scorer, rng: random.Random, n: int) -> None:
    for _ in range(n):
        scorer.learn(rng.choice([T, "bill_shock"]), rng.choice(OFFERS), random_feats(rng),
                     rng.random() < 0.3)


def assert_same_behaviour(a: Scorer, b: Scorer, rng: random.Random) -> None:
    for i in range(30):
        feats = random_feats(rng)
        for model_id in (T, "bill_shock", "never_seen"):
            assert a.choose(model_id, OFFERS, feats, f"s{i}") == b.choose(
                model_id, OFFERS, feats, f"s{i}")
        assert a.auc(T) == b.auc(T) and a.examples(T) == b.examples(T)
    assert a.version == b.version and a.model_ids() == b.model_ids()


def signed(body: bytes, key: bytes = KEY, header: bytes = snap.HEADER) -> bytes:
    digest = hmac.new(key, header + body, hashlib.sha256).hexdigest().encode()
    return header + digest + b"\n" + body


# --- round trip -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), before=st.integers(0, 120), after=st.integers(1, 60))
def test_a_restored_scorer_chooses_and_goes_on_learning_identically(
        seed: int, before: int, after: int) -> None:
    rng = random.Random(seed)
    scorer = Scorer(ModelConfig(learning_rate=0.05, l2=0.001), prior=0.4)
    learn_some(scorer, rng, before)
    data = scorer.to_bytes(KEY)
    copy = Scorer.from_bytes(data, KEY)
    assert copy.to_bytes(KEY) == data  # every weight, precision and counter, bit for bit
    assert_same_behaviour(scorer, copy, random.Random(seed))
    # both learn the same examples on: still the same model, ROC AUC included
    script = random.Random(seed + 1)
    learn_some(scorer, script, after)
    learn_some(copy, random.Random(seed + 1), after)
    assert copy.to_bytes(KEY) == scorer.to_bytes(KEY)
    assert_same_behaviour(scorer, copy, random.Random(seed + 2))
    assert copy.config == scorer.config and copy.prior == scorer.prior


def test_a_snapshot_is_json_behind_a_versioned_signed_header() -> None:
    scorer = Scorer()
    learn_some(scorer, random.Random(3), 20)
    data = scorer.to_bytes(KEY)
    header, digest, body = data.split(b"\n", 2)
    assert header + b"\n" == snap.HEADER == b"cjo.scorer/2\n"
    assert digest == hmac.new(KEY, snap.HEADER + body, hashlib.sha256).hexdigest().encode()
    document = orjson.loads(body)
    assert document["version"] == 20 and set(document["models"]) == {T, "bill_shock"}


# --- river internals the snapshot relies on (a river upgrade that changes them fails here) ----


def test_river_logistic_regression_state_is_what_the_snapshot_keeps() -> None:
    model = TriggerModel(ModelConfig())
    lr = model.lr
    # the learned state: weights, intercept, the optimizer's step count; the rest is config
    assert set(vars(lr)) == {"optimizer", "loss", "l2", "l1", "intercept_init", "intercept",
                             "intercept_lr", "clip_gradient", "initializer", "_weights",
                             "_y_name"}
    assert set(vars(lr.optimizer)) == {"lr", "n_iterations"}
    assert isinstance(lr._weights, utils.VectorDict)
    assert isinstance(lr.optimizer, optim.SGD) and isinstance(lr.loss, optim.losses.Log)
    assert isinstance(lr.optimizer.lr, optim.schedulers.Constant)
    assert isinstance(lr.intercept_lr, optim.schedulers.Constant)
    assert isinstance(lr.initializer, optim.initializers.Zeros)
    # weights keep insertion order through to_dict / VectorDict(dict)
    lr.learn_one({"b": 1.0, "a": 2.0, "c": -1.0}, True)
    assert list(utils.VectorDict(lr._weights.to_dict()).to_dict()) == ["b", "a", "c"]
    assert lr.optimizer.n_iterations == 1


def test_river_roc_auc_state_is_what_the_snapshot_keeps() -> None:
    auc = metrics.ROCAUC()  # type: ignore[no-untyped-call]
    assert set(vars(auc)) == {"n_thresholds", "pos_val", "thresholds", "cms"}
    assert len(auc.cms) == auc.n_thresholds == 10
    auc.update(True, 0.7)
    auc.update(False, 0.2)
    cm = auc.cms[3]
    assert set(vars(cm)) == {"_init_classes", "sum_row", "sum_col", "data", "n_samples",
                             "total_weight", "_total_true_positives"}
    assert set(cm.data) <= {True, False} and set(cm.sum_row) <= {True, False}
    assert cm.n_samples == 2 and cm.total_weight == 2.0


def test_river_logistic_regression_is_what_the_model_builds() -> None:
    config = ModelConfig(learning_rate=0.07, intercept_lr=0.02, l2=0.5)
    lr = TriggerModel(config).lr
    reference = linear_model.LogisticRegression(optimizer=optim.SGD(0.07), l2=0.5,
                                                intercept_lr=0.02)
    for x, y in [({"a": 1.0}, True), ({"a": 0.5, "b": 2.0}, False)]:
        lr.learn_one(x, y)
        reference.learn_one(x, y)
    assert lr._weights.to_dict() == reference._weights.to_dict()
    assert lr.intercept == reference.intercept


# --- refused: never parsed, never executed ---------------------------------------------------


class _Touch:
    """Unpickling this creates ``path``: the proof a pickle ran code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))


def test_a_pickle_is_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Touch(marker))
    attempts = [
        payload,  # a bare pickle
        b"CJO-SCORER/1\n" + payload,  # the former format
        snap.HEADER + b"0" * 64 + b"\n" + payload,  # a forged digest
        signed(payload),  # even signed with the right key: the body is JSON or nothing
    ]
    for data in attempts:
        with pytest.raises(SnapshotError):
            Scorer.from_bytes(data, KEY)
    assert not marker.exists()
    pickle.loads(payload)  # the payload does work when unpickled: the test would notice
    assert marker.exists()


def good() -> bytes:
    scorer = Scorer()
    learn_some(scorer, random.Random(1), 10)
    return scorer.to_bytes(KEY)


@pytest.mark.parametrize(("name", "data", "says"), [
    ("empty", b"", "not a scorer snapshot"),
    ("random bytes", random.Random(64).randbytes(64), "not a scorer snapshot"),
    ("future version", good().replace(b"cjo.scorer/2", b"cjo.scorer/3", 1),
     "unsupported scorer snapshot format"),
    ("truncated", good()[:-5], "digest does not match"),
    ("truncated in the header", good()[:20], "truncated"),
    ("tampered body", good().replace(b'"version":10', b'"version":99'), "digest does not match"),
    ("tampered digest", good()[:20] + b"f" + good()[21:], "digest does not match"),
    ("too large", snap.HEADER + b"x" * snap.MAX_BYTES, "at most"),
])
def test_a_foreign_altered_or_unknown_snapshot_is_refused(name: str, data: bytes,
                                                          says: str) -> None:
    with pytest.raises(SnapshotError, match=says) as info:
        Scorer.from_bytes(data, KEY)
    assert isinstance(info.value, CjoError)


def test_a_snapshot_signed_with_another_key_is_refused() -> None:
    with pytest.raises(SnapshotError, match="another CJO_MODELS_KEY"):
        Scorer.from_bytes(good(), b"another key")


@pytest.mark.parametrize("document", [
    [],
    {"prior": 0.5, "version": 1, "config": {}, "models": {}},
    {"prior": 2.0, "version": 1, "config": dict.fromkeys(
        ("learning_rate", "intercept_lr", "l2", "prior_precision", "exploration"), 0.1),
     "models": {}},
    orjson.loads(good().split(b"\n", 2)[2]) | {"version": -1},
    orjson.loads(good().split(b"\n", 2)[2]) | {"models": {T: {"weights": {"a": "x"}}}},
])
def test_a_signed_snapshot_with_wrong_fields_is_refused(document: Any) -> None:
    with pytest.raises(SnapshotError, match="scorer snapshot"):
        Scorer.from_bytes(signed(orjson.dumps(document)), KEY)


def test_a_model_with_a_malformed_roc_auc_is_refused() -> None:
    document = orjson.loads(good().split(b"\n", 2)[2])
    document["models"][T]["auc"][2]["cells"] = [1.0, None, 0.0, 0.0]
    with pytest.raises(SnapshotError, match=r"auc\[2\]\.cells\[1\]"):
        Scorer.from_bytes(signed(orjson.dumps(document)), KEY)


# --- fuzzing: nothing but SnapshotError ------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_snapshot_error(data: bytes) -> None:
    with pytest.raises(SnapshotError):
        Scorer.from_bytes(data, KEY)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
                    | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)
FIELDS = st.sampled_from(["prior", "version", "config", "models", "weights", "intercept",
                          "steps", "precision", "examples", "positives", "auc", "cells"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(JSON, lambda inner: st.dictionaries(FIELDS, inner, max_size=6),
                    max_leaves=30),
       st.booleans())
def test_signed_arbitrary_documents_raise_only_snapshot_error(document: Any,
                                                              mutate_good: bool) -> None:
    """Behind a valid signature (a learner defect, or a leaked key), the fields are still
    checked: a malformed document is refused, never a TypeError or KeyError."""
    if mutate_good and isinstance(document, dict):
        base = orjson.loads(good().split(b"\n", 2)[2])
        base["models"][T].update(document)
        document = base
    data = signed(orjson.dumps(document))
    try:
        scorer = Scorer.from_bytes(data, KEY)
    except SnapshotError:
        return
    assert Scorer.from_bytes(scorer.to_bytes(KEY), KEY).to_bytes(KEY) == scorer.to_bytes(KEY)
