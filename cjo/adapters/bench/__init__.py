"""`make bench`: see :mod:`cjo.adapters.bench.cli` for the rows and how each is measured."""
