"""Deterministic, seeded simulator of recorded event logs (docs/data-contract.md, "Recorded logs").

from sim import simulate, write_log
with open("log.jsonl", "w") as out:
    summary = write_log(simulate(subscribers=100, days=2, seed=7), out)
"""

from sim.engine import DEFAULT_START_MS, run_simulate, simulate
from sim.writer import SimSummary, write_log

__all__ = ["DEFAULT_START_MS", "SimSummary", "run_simulate", "simulate", "write_log"]
