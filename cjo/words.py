"""Counts in the words people read: ``1 trigger``, ``2 triggers``, ``1,200 lines``."""

from __future__ import annotations


def count(n: int, noun: str, plural: str = "") -> str:
    """``count(1, "trigger")`` -> ``1 trigger``; ``count(3, "trigger")`` -> ``3 triggers``."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
