"""Trigger moments: what the catalogue's triggers detect from (event, state before, state after).

The generic kinds live in ``cjo.triggers.kinds``; ``facts`` and ``geo`` are their shared parts.
"""

from cjo.triggers.moment import Moment

__all__ = ["Moment"]
