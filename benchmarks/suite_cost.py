"""What the test suite costs: wall time, outcome, line coverage and slowest tests per backend.

Runs the README's test command (``python -m pytest -n 2``, coverage on, as in
``pyproject.toml``) once per Keras backend, one after the other, in fresh
processes, and records for each: the wall-clock seconds, the counts of the
final summary line, the package's line coverage (pytest-cov's JSON report) and
the slowest tests (``--durations``); then the line coverage of both passes together
(some tests run in one backend's pass only, see ``tests/conftest.py``). Each pass starts from an empty JAX compilation cache, as on CI. Compare runs made on an idle machine only:
other processes beside the suite inflate every second.

Usage::

    python benchmarks/suite_cost.py            # the whole suite, both backends
    python benchmarks/suite_cost.py --quick    # tests/test_house.py only, to try it

writes ``benchmarks/results/suite_cost[_quick].json`` and prints a table. With
``--baseline FILE`` (a JSON this script wrote before), the table gives the
ratios of wall time beside the raw figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS, machine_info, markdown_table, write_json

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax")
QUICK_TESTS = ("tests/test_house.py",)
_DURATION = re.compile(r"^\s*([0-9.]+)s (call|setup|teardown)\s+(\S+)")
_COUNT = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|warnings?)")


def _summary_counts(lines):
    """``{"passed": n, ...}`` from pytest's last ``=== ... in Ns ===`` line."""
    for line in reversed(lines):
        if re.search(r" in [0-9.]+s", line) and _COUNT.search(line):
            counts = {kind: int(n) for n, kind in _COUNT.findall(line)}
            if "error" in counts:
                counts["errors"] = counts.pop("error")
            return counts
    return {}


def _slowest(lines, count):
    found = [(float(m[1]), m[2], m[3]) for m in map(_DURATION.match, lines) if m]
    return [{"seconds": s, "phase": phase, "test": test} for s, phase, test in found[:count]]


def run_suite(backend, tests=(), workers=2, slowest=25, data_file=None):
    """Run the suite under ``backend``; return its record (coverage data to ``data_file``)."""
    with tempfile.TemporaryDirectory() as folder:
        coverage_json = Path(folder) / "coverage.json"
        command = [sys.executable, "-m", "pytest", "-n", str(workers), "-q", "-p",
                   "no:cacheprovider", f"--durations={slowest}",
                   f"--cov-report=json:{coverage_json}", *tests]
        # A clean pytest: none of a calling pytest's (or its coverage's) variables.
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("PYTEST_", "COV_CORE_", "COVERAGE_"))}
        env.update(KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2",
                   # An empty compilation cache for the pass, as on CI's clean machine
                   # (tests/conftest.py otherwise reuses the temp folder's programs).
                   JAX_COMPILATION_CACHE_DIR=str(Path(folder) / "jax_cache"))
        if data_file is not None:
            env["COVERAGE_FILE"] = str(data_file)
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        totals = json.loads(coverage_json.read_text())["totals"] if coverage_json.exists() else {}
    lines = done.stdout.splitlines()
    return {
        "backend": backend,
        "command": " ".join(["python", *command[1:]]).replace(str(coverage_json), "<tmp>"),
        "exit_code": done.returncode,
        "wall_seconds": round(wall, 1),
        "counts": _summary_counts(lines),
        "coverage": {"statements": totals.get("num_statements"),
                     "missed": totals.get("missing_lines"),
                     "percent": round(totals["percent_covered"], 2) if totals else None},
        "slowest": _slowest(lines, slowest),
        "failures": [line for line in lines if line.startswith(("FAILED", "ERROR"))],
    }


def combined_coverage(data_files):
    """Line coverage of the package by several runs together (their union)."""
    import coverage

    with tempfile.TemporaryDirectory() as folder:
        combined = coverage.Coverage(data_file=str(Path(folder) / ".coverage"),
                                     config_file=str(ROOT / "pyproject.toml"))
        combined.combine([str(path) for path in data_files], keep=True)
        combined.save()
        report = Path(folder) / "coverage.json"
        combined.json_report(outfile=str(report))
        totals = json.loads(report.read_text())["totals"]
    return {"statements": totals["num_statements"], "missed": totals["missing_lines"],
            "percent": round(totals["percent_covered"], 2)}


def _row(record, baseline):
    before = {b["backend"]: b for b in (baseline or {}).get("runs", [])}.get(record["backend"])
    ratio = (f"{before['wall_seconds'] / record['wall_seconds']:.2f}x faster"
             if before else "")
    counts = ", ".join(f"{n} {kind}" for kind, n in record["counts"].items()
                       if not kind.startswith("warning"))
    return [record["backend"], f"{record['wall_seconds']:.0f}", ratio, counts,
            f"{record['coverage']['percent']}%"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--baseline", type=Path, default=None)
    args = parser.parse_args(argv)
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    tests = QUICK_TESTS if args.quick else ()
    with tempfile.TemporaryDirectory() as folder:
        files = [Path(folder) / f".coverage.{backend}" for backend in args.backends]
        runs = [run_suite(backend, tests, data_file=file)
                for backend, file in zip(args.backends, files)]
        combined = combined_coverage([file for file in files if file.exists()])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    payload = {"what": __doc__.split("\n\n")[0], "commit": commit, "machine": machine_info(),
               "baseline": str(args.baseline) if args.baseline else None, "runs": runs,
               "combined_coverage": combined}
    path = write_json(args.output / f"suite_cost{'_quick' if args.quick else ''}.json", payload)
    print(markdown_table(["backend", "wall s", "vs baseline", "outcome", "coverage"],
                         [_row(record, baseline) for record in runs]))
    print(f"\nline coverage of the passes together: {combined['percent']}%")
    print(f"\nwritten: {path}")
    return payload


if __name__ == "__main__":
    main()
