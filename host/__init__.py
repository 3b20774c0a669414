"""lumenrig host service: links to rigs, runs, store, analysis, HTTP API and CLI."""
