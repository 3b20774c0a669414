"""Photometry the simulator and the host share, so both compute luminance one way (CPython only)."""
