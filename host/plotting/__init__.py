"""Plots: the per-run column cache, LTTB downsampling and PNG rendering."""
