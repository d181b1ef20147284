"""Who may be contacted, and when: eligibility, consent, cooldown (``eligibility``); caps, channel
caps, dedupe, quiet hours and daily budgets (``contact``); the control group (``holdout``)."""

from cjo.policy.contact import Verdict, budget_share, contact_verdict, record_contact
from cjo.policy.eligibility import blocking_reasons
from cjo.policy.holdout import in_holdout

__all__ = [
    "Verdict",
    "blocking_reasons",
    "budget_share",
    "contact_verdict",
    "in_holdout",
    "record_contact",
]
