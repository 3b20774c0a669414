"""Live fan-out: every connected stream client gets each run message, each within its own byte bound."""
