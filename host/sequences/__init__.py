"""Test sequences: runs in order on one rig (characterise, stress with check-ups, characterise
again), started as one request or from a recipe file, with a report across them."""
