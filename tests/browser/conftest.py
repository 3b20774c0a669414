"""The headless Chromium every browser test module drives (one per module)."""

import os

import pytest

from tests.support.browser import Browser, available


@pytest.fixture(scope="module")
def browser():
    missing = available()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must provide Chromium", pytrace=False)
        pytest.skip(f"{missing} (`make install` installs it)")
    opened = Browser()
    yield opened
    opened.quit()
