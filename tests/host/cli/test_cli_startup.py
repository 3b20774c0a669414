"""The `lumenrig` command starts without the analysis stack: a command that only talks to
the service must not pay for loading numpy's and scipy's solvers on every call."""

import subprocess
import sys

HEAVY = ("scipy", "numpy", "sqlalchemy", "fastapi", "host.runs.kinds", "host.analysis")


def test_the_cli_loads_no_analysis_database_or_web_stack():
    found = subprocess.run(
        [sys.executable, "-c", "import sys, host.cli.commands; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True).stdout.split()
    loaded = sorted({name for name in found for heavy in HEAVY
                     if name == heavy or name.startswith(heavy + ".")})
    assert loaded == [], "loaded at start-up: %s" % ", ".join(loaded)
