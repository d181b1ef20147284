"""The learner: one owner of the models, fed by the single-partition ``cjo.learning`` topic.

Each labelled example updates the scorer; every ``SNAPSHOT_EVERY`` examples (or once a second
while some wait) the scorer is published to the compacted ``cjo.models`` topic, and only then
are its examples acknowledged. So a crashed learner restarts from the newest snapshot plus the
examples delivered again after it: none is lost (a few may be learned twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cjo import codec, logs
from cjo.catalogue.model import Bandit
from cjo.control_records import MODELS_KEY
from cjo.scoring import Scorer

log = logs.get("cjo.learner")

SNAPSHOT_EVERY = 50
SNAPSHOT_AFTER_S = 1.0


class Learner:
    def __init__(self, models_topic: Any, initial: bytes | None, key: bytes,
                 bandit_of: Callable[[str], Bandit | None] = lambda model_id: None) -> None:
        self._models = models_topic
        self._initial = initial  # a snapshot the worker read and checked at start-up
        self._key = key  # CJO_MODELS_KEY: signs what is published
        self.scorer: Scorer | None = None
        self._unpublished: list[Any] = []  # events learned from, not yet in a snapshot
        self._last_publish = time.monotonic()
        self.stream: Any = None
        self._bandit_of = bandit_of  # a trigger's bandit options, from the live catalogue

    def _scorer(self) -> Scorer:
        if self.scorer is None:
            self.scorer = (Scorer.from_bytes(self._initial, self._key) if self._initial
                           else Scorer())
        return self.scorer

    async def handle(self, event: Any) -> None:
        value = event.message.value
        try:
            _, example = codec.decode(value, "LearningExample")
        except Exception as err:
            log.warning("bad_example", error=str(err))
        else:
            bandit = self._bandit_of(example["model_id"])
            self._scorer().learn(example["model_id"], example["offer_code"],
                                 example["features"], bool(example["label"]),
                                 discount=bandit.discount if bandit else None,
                                 detect_drift=bandit.reset_on_drift if bandit else None)
        self._unpublished.append(event)
        if len(self._unpublished) >= SNAPSHOT_EVERY:
            await self.publish()

    async def publish_if_due(self) -> None:
        if self._unpublished and time.monotonic() - self._last_publish >= SNAPSHOT_AFTER_S:
            await self.publish()

    async def publish(self) -> None:
        # the examples in this snapshot are exactly those taken here: any learned while the
        # send is awaited wait for the next snapshot before they are acknowledged
        events, self._unpublished = self._unpublished, []
        scorer = self._scorer()
        snapshot, version = scorer.to_bytes(self._key), scorer.version
        self._last_publish = time.monotonic()
        await (await self._models.send(key=MODELS_KEY, value=snapshot, partition=0))
        for event in events:
            await self.stream.ack(event)
        log.info("models_published", version=version, examples=len(events))

    def adopt(self, snapshot: Scorer) -> None:
        """A snapshot seen on the models topic: taken over when it is newer than what this
        worker holds (the learner moved here, or this is a learner's own snapshot coming back,
        which is never newer)."""
        if self._unpublished:
            return
        current = self.scorer if self.scorer is not None else (
            Scorer.from_bytes(self._initial, self._key) if self._initial else None)
        if current is None or snapshot.version > current.version:
            self.scorer, self._initial = snapshot, None
