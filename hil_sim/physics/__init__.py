"""Device physics of the simulated rig (MicroPython-compatible: pure Python, `math` only)."""
