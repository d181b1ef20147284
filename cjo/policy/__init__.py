"""Who may be contacted: eligibility, consent, cooldown (issue 4 adds caps, quiet hours...)."""

from cjo.policy.eligibility import blocking_reasons

__all__ = ["blocking_reasons"]
