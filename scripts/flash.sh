#!/usr/bin/env bash
# Deploy the precompiled firmware to a Pico running MicroPython with mpremote: /main.py
# (source: the board runs a main.py), /lumenfw/ and the protocol/ modules the firmware
# imports, as .mpy from build/firmware/ (hil_sim/fwbuild.py, brought up to date first;
# versions in docs/firmware-build.md). The board's old /lumenfw and /protocol go first:
# MicroPython prefers a .py to a .mpy of the same name, so a source left from an earlier
# flash would shadow the new build. Then reset.
#
# Once the firmware runs, Ctrl-C is off on the console (it carries binary frames), so
# mpremote cannot interrupt it: fit the safe-boot jumper (board_config.PIN_SAFE_BOOT to GND)
# and power-cycle before flashing again.
set -euo pipefail

PORT=${1:?usage: scripts/flash.sh PORT   (e.g. /dev/ttyACM0)}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY="$REPO/.venv/bin/python"
[ -x "$PY" ] || PY=python3
MPREMOTE=${MPREMOTE:-"$REPO/.venv/bin/mpremote"}  # MPREMOTE=...: another client (tests)
[ -x "$MPREMOTE" ] || MPREMOTE=mpremote

(cd "$REPO" && "$PY" -m hil_sim.fwbuild)

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

# Stage exactly the board's files from the build: main.py, every lumenfw module, and the
# protocol modules reachable by imports from the firmware (found by reading the import
# statements of the sources, not by running).
"$PY" - "$REPO" "$STAGE" <<'PYEOF'
import ast
import shutil
import sys
from pathlib import Path

repo, stage = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, str(repo))
from hil_sim.fwbuild import BUILD_DIR  # noqa: E402

firmware = repo / "firmware"
board_files = [firmware / "main.py", *sorted((firmware / "lumenfw").rglob("*.py"))]


def imported_protocol_modules(path):
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "protocol":
                found.update("protocol." + a.name for a in node.names)
            elif node.module.startswith("protocol."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("protocol."))
    return found


todo = set()
for path in board_files:
    todo |= imported_protocol_modules(path)
done = set()
while todo:
    name = todo.pop()
    path = repo / (name.replace(".", "/") + ".py")
    if name in done or not path.exists():
        continue
    done.add(name)
    todo |= imported_protocol_modules(path)

staged = ["main.py"]
staged += [str(Path("lumenfw") / p.relative_to(firmware / "lumenfw").with_suffix(".mpy"))
           for p in board_files[1:]]
staged += ["protocol/__init__.mpy"] + [n.replace(".", "/") + ".mpy" for n in sorted(done)]
for rel in staged:
    target = stage / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(BUILD_DIR / rel, target)
    print("  " + rel)
PYEOF

# Removes /lumenfw and /protocol on the board, whatever they hold (nothing if absent).
CLEAN='import os
def rm(p):
    try:
        mode = os.stat(p)[0]
    except OSError:
        return
    if mode & 0x4000:
        for name in os.listdir(p):
            rm(p + "/" + name)
        os.rmdir(p)
    else:
        os.remove(p)
for p in ("/lumenfw", "/protocol"):
    rm(p)'

cd "$STAGE"
echo "copying to $PORT"
RESET=(+ reset)
[ "${FLASH_RESET:-1}" = 0 ] && RESET=()  # FLASH_RESET=0: copy only (tests; a board kept in the REPL)
"$MPREMOTE" connect "$PORT" exec "$CLEAN" + cp -r lumenfw protocol : + cp main.py :main.py \
  "${RESET[@]}"
