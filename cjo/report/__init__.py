"""Audit reports over the engine's output topics: holdout uplift and one subscriber's decisions.

Pure functions over decoded records; reading the topics is ``cjo.adapters.audit_commands``.
"""
