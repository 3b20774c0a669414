"""Seeded xorshift32 noise source that gives the same numbers on CPython and MicroPython."""

import math

_MASK32 = 0xFFFFFFFF
_TWO_PI = 2.0 * math.pi
_INV_2_32 = 1.0 / 4294967296.0


def mix_seed(seed):
    """A non-zero 32-bit state from any integer seed (murmur3 finaliser, so 0, 1, 2 differ a lot).

    Source: Appleby, MurmurHash3 fmix32.
    """
    h = (int(seed) ^ 0x9E3779B9) & _MASK32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK32
    h ^= h >> 16
    return h or 0x6D2B79F5


class Rng:
    """xorshift32 (Marsaglia 2003) plus Box-Muller normals; all state is plain numbers.

    Every intermediate stays below 2**45, a small int on the 64-bit unix port.
    """

    # Attributes that carry the part across a device reset (Bench.snapshot).
    STATE = ("state", "spare", "has_spare")

    def __init__(self, seed):
        self.state = mix_seed(seed)
        self.spare = 0.0
        self.has_spare = 0

    def next_u32(self):
        x = self.state
        x ^= (x << 13) & _MASK32
        x ^= x >> 17
        x ^= (x << 5) & _MASK32
        self.state = x
        return x

    def uniform(self):
        """Uniform in (0, 1]: never 0, so log() in gauss() is always defined."""
        return (self.next_u32() + 1) * _INV_2_32

    def gauss(self):
        """Standard normal deviate; Box-Muller (1958), the second value of each pair kept."""
        if self.has_spare:
            self.has_spare = 0
            return self.spare
        r = math.sqrt(-2.0 * math.log(self.uniform()))
        phi = _TWO_PI * self.uniform()
        self.spare = r * math.sin(phi)
        self.has_spare = 1
        return r * math.cos(phi)
