"""The board self-test on the host: each check in words with its advice, the last result a
rig keeps, the runs it refuses, and running it (at every handshake and on request)."""
