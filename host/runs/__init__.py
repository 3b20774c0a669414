"""Runs: the manager that starts, follows, recovers and ends them, and what a run kind needs (parameters, device programs, units, seq order, summaries)."""
