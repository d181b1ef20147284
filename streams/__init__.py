"""The wiring: Faust app, topics, tables and agents. Moves bytes; cjo/ decides."""
