"""The service's C heap: arenas capped and free pages handed back where glibc is the libc."""

import ctypes.util

from host import allocator


def test_on_glibc_the_arena_cap_applies_and_a_trim_runs():
    if allocator._LIBC is None:
        assert ctypes.util.find_library("c") is None or not allocator.limit_arenas()
        return
    assert allocator.limit_arenas() is True
    blocks = [bytearray(64 << 10) for _ in range(200)]  # 12.5 MB from the C heap, then freed
    del blocks
    assert isinstance(allocator.give_back(), bool)
