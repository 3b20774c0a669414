"""Deadline waits: poll a condition, fail the test with what was awaited when time runs out."""

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], timeout_s: float = 30.0, what: str = "") -> Any:
    """Poll condition until it returns something truthy and return that; fail after
    timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout_s:.1f} s waiting for {what or condition}")
        time.sleep(0.002)
