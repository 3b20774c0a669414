"""HTTP API: rigs, runs, samples, live stream, plots, dashboard."""
