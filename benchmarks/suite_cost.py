"""What the test suite costs: wall time, outcome, line coverage and slowest tests per backend.

Runs the README's test command (``python -m pytest -n 2``, coverage on, as in
``pyproject.toml``) once per Keras backend, one after the other, in fresh
processes, and records for each: the wall-clock seconds, the counts of the
final summary line, the package's line coverage (pytest-cov's JSON report), the
slowest tests (``--durations``) and the ``XLA_FLAGS`` it passed (``XLA_FLAGS=
python benchmarks/suite_cost.py`` runs the JAX pass at XLA's default optimisation
level instead of ``tests/conftest.py``'s 0); then the line coverage of both passes
together (some tests run in one backend's pass only, see ``tests/conftest.py``).
Each pass starts from an empty JAX compilation cache, as on CI. Compare runs made
on an idle machine only: other processes beside the suite inflate every second.

Usage::

    python benchmarks/suite_cost.py            # the whole suite, both backends
    python benchmarks/suite_cost.py --quick    # tests/test_house.py only, to try it

writes ``benchmarks/results/suite_cost[_quick].json`` and prints a table. With
``--baseline FILE`` (a JSON this script wrote before), the table gives the
ratios of wall time beside the raw figures. With ``--compile-profile`` it also
books JAX's compilation seconds to the test that caused them (the pytest plugin
``_compile_profile.py``; in-process compilations only) and records their totals
and the modules that compile most, in ``suite_cost[_quick]_compile_profile.json``:
where the JAX pass's time goes on CI's empty cache.
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
from _compile_profile import FOLDER_VARIABLE

BENCHMARKS = Path(__file__).resolve().parent

ROOT = BENCHMARKS.parent
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


#: JAX's monitoring events that a compile profile sums (seconds, count).
COMPILE_EVENTS = {"compile": "/jax/core/compile/backend_compile_duration",
                  "trace": "/jax/core/compile/jaxpr_trace_duration",
                  "lower": "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "cache_hit": "/jax/compilation_cache/cache_retrieval_time_sec"}


def compile_summary(profiles, top=15):
    """Totals and the ``top`` modules by compile seconds, from the plugin's files' contents.

    ``profiles``: one ``{test id: {event: [seconds, count]}}`` per pytest process.
    """
    modules = {}
    for profile in profiles:
        for test, events in profile.items():
            row = modules.setdefault(test.split("::")[0], {"wall_seconds": 0.0, **{
                f"{name}_{unit}": 0 for name in COMPILE_EVENTS for unit in ("seconds", "count")}})
            row["wall_seconds"] += events.get("wall", [0.0, 0])[0]
            for name, event in COMPILE_EVENTS.items():
                seconds, count = events.get(event, [0.0, 0])
                row[f"{name}_seconds"] += seconds
                row[f"{name}_count"] += count
    totals = {key: sum(row[key] for row in modules.values())
              for key in next(iter(modules.values()), {})}
    ranked = sorted(modules.items(), key=lambda item: -item[1]["compile_seconds"])[:top]
    rounded = lambda row: {key: round(value, 1) if isinstance(value, float) else value
                           for key, value in row.items()}
    return {"totals": rounded(totals),
            "modules": [{"module": module, **rounded(row)} for module, row in ranked]}


def run_suite(backend, tests=(), workers=2, slowest=25, data_file=None, profile=False):
    """Run the suite under ``backend``; return its record (coverage data to ``data_file``).

    With ``profile``, the record's ``"compile"`` is :func:`compile_summary` of the run.
    """
    with tempfile.TemporaryDirectory() as folder:
        coverage_json = Path(folder) / "coverage.json"
        profiles = Path(folder) / "compile_profile"
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
        if profile:
            profiles.mkdir()
            command[3:3] = ["-p", "_compile_profile"]
            env[FOLDER_VARIABLE] = str(profiles)
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(BENCHMARKS), env.get("PYTHONPATH")]))
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        totals = json.loads(coverage_json.read_text())["totals"] if coverage_json.exists() else {}
        compiled = (compile_summary([json.loads(path.read_text())
                                     for path in sorted(profiles.glob("*.json"))])
                    if profile else None)
    lines = done.stdout.splitlines()
    record = {
        "backend": backend,
        "command": " ".join(["python", *command[1:]]).replace(str(coverage_json), "<tmp>"),
        "exit_code": done.returncode,
        "wall_seconds": round(wall, 1),
        # None: tests/conftest.py's own choice (XLA's optimisation level 0 on JAX).
        "xla_flags": env.get("XLA_FLAGS"),
        "counts": _summary_counts(lines),
        "coverage": {"statements": totals.get("num_statements"),
                     "missed": totals.get("missing_lines"),
                     "percent": round(totals["percent_covered"], 2) if totals else None},
        "slowest": _slowest(lines, slowest),
        "failures": [line for line in lines if line.startswith(("FAILED", "ERROR"))],
    }
    if profile:
        record["compile"] = compiled
    return record


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
    parser.add_argument("--compile-profile", action="store_true",
                        help="book JAX's compile seconds to tests (a separate JSON)")
    args = parser.parse_args(argv)
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    tests = QUICK_TESTS if args.quick else ()
    with tempfile.TemporaryDirectory() as folder:
        files = [Path(folder) / f".coverage.{backend}" for backend in args.backends]
        runs = [run_suite(backend, tests, data_file=file, profile=args.compile_profile)
                for backend, file in zip(args.backends, files)]
        combined = combined_coverage([file for file in files if file.exists()])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    payload = {"what": __doc__.split("\n\n")[0], "commit": commit, "machine": machine_info(),
               "baseline": str(args.baseline) if args.baseline else None, "runs": runs,
               "combined_coverage": combined}
    name = ("suite_cost" + ("_quick" if args.quick else "")
            + ("_compile_profile" if args.compile_profile else ""))
    path = write_json(args.output / f"{name}.json", payload)
    print(markdown_table(["backend", "wall s", "vs baseline", "outcome", "coverage"],
                         [_row(record, baseline) for record in runs]))
    print(f"\nline coverage of the passes together: {combined['percent']}%")
    for record in runs if args.compile_profile else ():
        totals = record["compile"]["totals"]
        print(f"\n{record['backend']}: {totals.get('compile_seconds', 0):.0f} s compiling "
              f"({totals.get('compile_count', 0)} programs, "
              f"{totals.get('cache_hit_count', 0)} cache hits) in "
              f"{totals.get('wall_seconds', 0):.0f} s of tests in-process; most:")
        print(markdown_table(["module", "compile s", "programs", "cache hits", "tests s"], [
            [row["module"], f"{row['compile_seconds']:.0f}", str(row["compile_count"]),
             str(row["cache_hit_count"]), f"{row['wall_seconds']:.0f}"]
            for row in record["compile"]["modules"][:10]]))
    print(f"\nwritten: {path}")
    return payload


if __name__ == "__main__":
    main()
