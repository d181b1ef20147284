"""The engine: how one partition's records and ticks become offers, in pipeline order.

``ordering`` merges the input topics by event time; ``runner`` drives one partition (watermark,
due timers, one record at a time); ``decide`` is the one door (a record or a due timer -> state
and effects); ``effects`` is what a step produces (the messages to publish, the keys to write);
``settle`` turns moments into decisions and offers; ``feedback`` closes response windows into
outcomes and learning examples; ``offline`` runs a whole recorded log through the same code
without Kafka (the tests' oracle, ``cjo try``). See docs/architecture.md.
"""
