"""Seeded proofs of decision quality (``make quality``; docs/decision-quality.md): each claim of
issue 19 measured on a simulated population whose responder knows every offer's true acceptance
probability per segment. ``python -m sim.quality`` prints the table; the unit tests run the same
functions with fewer seeds and smaller logs."""
