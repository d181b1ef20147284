"""Generic trigger kinds (see base.Kind)."""
