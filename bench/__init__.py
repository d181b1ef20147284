"""`make bench`: see :mod:`bench.cli` for the rows and how each is measured."""
