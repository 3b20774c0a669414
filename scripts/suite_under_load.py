"""`make test` N times in a row on a fresh clone with every core kept busy (docs/reliability.md).

    python scripts/suite_under_load.py [TIMES] [--into FOLDER]

Clones this repository's HEAD into FOLDER (default: a new temporary folder), starts
os.cpu_count() + 1 busy loops, then runs `make test` there TIMES times (default 5), one after
another, stopping at the first that fails. Prints one line per round (wall time, pass or
fail, the pytest summary line) and a JSON record of every round at the end. The tests must
not care how busy the machine is: a round that fails here is a bug to fix, not a slow machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.service_proc import busy_cores  # noqa: E402


def summary_line(output: str) -> str:
    """pytest's last line ("1461 passed in 600.1s"), or the last line there is."""
    lines = [line for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if " passed" in line or " failed" in line or " error" in line:
            return line.strip("= ")
    return lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("times", nargs="?", type=int, default=5)
    parser.add_argument("--into", type=Path, default=None,
                        help="folder for the fresh clone (must not exist yet)")
    args = parser.parse_args(argv)
    if args.times < 1:
        parser.error("TIMES must be at least 1")
    folder = args.into or Path(tempfile.mkdtemp(prefix="lumenrig-load-")) / "clone"
    if folder.exists():
        parser.error(f"{folder} exists: give a new folder")
    subprocess.run(["git", "clone", "-q", str(REPO), str(folder)], check=True)
    install = subprocess.run(["make", "install"], cwd=folder, capture_output=True, text=True)
    if install.returncode != 0:
        print(install.stdout[-2000:] + install.stderr[-2000:], file=sys.stderr)
        return 2
    rounds = []
    with busy_cores():
        for index in range(1, args.times + 1):
            began = time.monotonic()
            done = subprocess.run(["make", "test"], cwd=folder, capture_output=True, text=True)
            wall_s = time.monotonic() - began
            record = {"round": index, "wall_s": round(wall_s, 1), "passed": done.returncode == 0,
                      "summary": summary_line(done.stdout),
                      "load_1min": round(os.getloadavg()[0], 2)}
            rounds.append(record)
            print("round %d: %s in %.0f s (%s)" % (index, "passed" if record["passed"]
                                                   else "FAILED", wall_s, record["summary"]),
                  flush=True)
            if not record["passed"]:
                (folder / "failed-round.log").write_text(done.stdout + done.stderr)
                print("its output:", folder / "failed-round.log")
                break
    print(json.dumps({"cores": os.cpu_count(), "busy_loops": (os.cpu_count() or 1) + 1,
                      "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                               cwd=folder, capture_output=True,
                                               text=True).stdout.strip(),
                      "rounds": rounds}, indent=1))
    return 0 if all(r["passed"] for r in rounds) and len(rounds) == args.times else 1


if __name__ == "__main__":
    sys.exit(main())
