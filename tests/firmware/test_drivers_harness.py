"""The two-interpreter test harness (tests/support/drivers.py) fails a failing body on each."""

import pytest

from tests.support.drivers import PRELUDE, run_both
from tests.support.mpy import run_micropython


def test_harness_reports_a_failing_body_on_cpython():
    with pytest.raises(AssertionError):
        run_both("assert 1 == 2\n")


def test_harness_runs_an_indented_body_after_a_setup_part_at_module_level():
    setup = """
    def helper():
        return 1
    """
    with pytest.raises(AssertionError):
        run_both(setup, """
        assert helper() == 2
        """)


@pytest.mark.micropython
def test_harness_reports_a_failing_body_under_micropython():
    proc = run_micropython(PRELUDE + "assert dac_code(10000, cfg) == 1\nprint('BODY-PASSED')\n")
    assert proc.returncode != 0
    assert b"BODY-PASSED" not in proc.stdout
