"""`make bench`: run every benchmark module, print a table, write bench/results.json."""

import importlib
import json
import platform
import sys
import time
from pathlib import Path

MODULES = ["bench.bench_codec", "bench.bench_ingest", "bench.bench_downsample",
           "bench.bench_link", "bench.bench_sim", "bench.bench_channels",
           "bench.bench_firmware", "bench.bench_api", "bench.bench_mqtt", "bench.bench_lab"]


def main(argv):
    wanted = [m for m in MODULES if not argv or any(a in m for a in argv)]
    results = {}
    failures = {}
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # not written yet
            raise
        t0 = time.perf_counter()
        try:
            figures = module.run()
        except Exception as exc:  # a failing bench is reported, the others still run
            failures[name] = "%s: %s" % (type(exc).__name__, exc)
            continue
        for key, figure in figures.items():
            figure["bench"] = name
            figure["seconds"] = round(time.perf_counter() - t0, 2)
            results[key] = figure
    width = max([len(k) for k in results] + [10])
    for key, figure in results.items():
        value = figure["value"]
        text = ("%.4g" % value) if isinstance(value, float) else str(value)
        print("%-*s %14s %-24s %s" % (width, key, text, figure.get("unit", ""),
                                      figure.get("goal", "")))
    for name, error in failures.items():
        print("FAILED %s: %s" % (name, error))
    out = Path(__file__).resolve().parent / "results.json"
    out.write_text(json.dumps({"machine": platform.platform(), "python": sys.version.split()[0],
                               "results": results, "failures": failures}, indent=1) + "\n")
    print("wrote", out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
