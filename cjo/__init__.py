"""cjo: a streaming trigger engine for telecom customer journeys."""

__version__ = "0.1.0"
