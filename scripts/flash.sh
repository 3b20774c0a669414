#!/usr/bin/env bash
# Deploy the firmware to a Pico running MicroPython with mpremote: /main.py, /lumenfw/ and
# the protocol/ modules the firmware imports (host-only modules stay behind), then reset.
#
# Once the firmware runs, Ctrl-C is off on the console (it carries binary frames), so
# mpremote cannot interrupt it: fit the safe-boot jumper (board_config.PIN_SAFE_BOOT to GND)
# and power-cycle before flashing again.
set -euo pipefail

PORT=${1:?usage: scripts/flash.sh PORT   (e.g. /dev/ttyACM0)}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY="$REPO/.venv/bin/python"
MPREMOTE="$REPO/.venv/bin/mpremote"
[ -x "$PY" ] || PY=python3
[ -x "$MPREMOTE" ] || MPREMOTE=mpremote

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

# Stage exactly the board's files: every lumenfw module, and the protocol modules reachable
# by imports from the firmware (found by reading the import statements, not by running).
"$PY" - "$REPO" "$STAGE" <<'PYEOF'
import ast
import shutil
import sys
from pathlib import Path

repo, stage = Path(sys.argv[1]), Path(sys.argv[2])
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
protocol_files = [repo / "protocol" / "__init__.py"]
protocol_files += [repo / (n.replace(".", "/") + ".py") for n in sorted(done)]

shutil.copy(firmware / "main.py", stage / "main.py")
for path in board_files[1:]:
    target = stage / path.relative_to(firmware)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, target)
for path in protocol_files:
    target = stage / path.relative_to(repo)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, target)
for path in sorted(stage.rglob("*.py")):
    print("  " + str(path.relative_to(stage)))
PYEOF

cd "$STAGE"
echo "copying to $PORT"
RESET=(+ reset)
[ "${FLASH_RESET:-1}" = 0 ] && RESET=()  # FLASH_RESET=0: copy only (tests; a board kept in the REPL)
"$MPREMOTE" connect "$PORT" cp -r lumenfw protocol : + cp main.py :main.py "${RESET[@]}"
