"""Off-policy evaluation (``cjo evaluate``): a candidate catalogue or policy judged on logged
decisions before it goes live. Pure: decision and outcome records in, estimates out.
docs/decision-quality.md explains the estimators and when not to trust them."""
