"""Without PostgreSQL the PostgreSQL tests fail under CI and are skipped, with the reason, elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import REPO

ONE_PG_TEST = "tests/host/store/test_store_runs.py::test_get_unknown_run_raises_run_not_found[postgresql]"
NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens on port 1


def run_pytest(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["LUMENRIG_TEST_PG_URL"] = NOWHERE
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", ONE_PG_TEST, "-q", "-rs",
                           "-p", "no:cacheprovider"], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def test_unreachable_postgresql_fails_under_ci():
    result = run_pytest(ci=True)
    assert result.returncode != 0
    assert "not reachable" in result.stdout and "1 error" in result.stdout


def test_unreachable_postgresql_skips_with_the_reason_elsewhere():
    result = run_pytest(ci=False)
    assert result.returncode == 0
    assert "1 skipped" in result.stdout and "not reachable" in result.stdout
