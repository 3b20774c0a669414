"""Wire protocol shared by the rig firmware (MicroPython) and the host (CPython)."""
