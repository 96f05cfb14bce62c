"""Day-ahead PM2.5 with longer windows and a change target, chosen on validation.

The reproduction benchmark's 24-hours-ahead case (``paper_pm25.py``: 25 hours
in, the next 24 hourly levels out) left LSTM-SAE short of its targets (skill
+15.4 % at lead 24, +9.6 % over leads) and behind Ridge. Its notes suggest two
changes, tried here:

- windows longer than 25 hours (48, 72 and 168: two days, three days, a week);
- learning each lead's change from the last observed hour, added back before
  scoring (``day_ahead_split(..., change=True)``).

``--select`` scores every (window, target) pair on the validation split of the
training windows (the first 80 % against the last 20 %) with Ridge, the cheap
probe (a deep fit on 72-hour windows takes about ten minutes on 2 cores); the
test run uses the pair Ridge ranks best by its mean skill over leads, among
windows of at most 72 hours (a week-long window costs seven times a day's per
epoch). Nothing is chosen on the test windows.

Usage::

    python benchmarks/day_ahead_pm25.py --select     # results/day_ahead_pm25_selection.json
    python benchmarks/day_ahead_pm25.py              # results/day_ahead_pm25.{json,png}
    python benchmarks/day_ahead_pm25.py --quick      # smoke test

Deep contenders are ``LSTMSAERegressor`` at its defaults (pretrained) and with
``pretraining=None`` (DLSTM), on the protocol's (-1, 1)-scaled windows.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from _common import RESULTS, Stopwatch, machine_info, markdown_table, save_figure
from _common import write_json
from paper_pm25 import DAY, Runner, day_ahead_scores, day_ahead_split, load_table
from sklearn.linear_model import Ridge

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

WINDOWS = (25, 48, 72, 168)
TARGETS = {"skill_lead_24_min": 0.20, "skill_mean_min": 0.10}
SELECTION = RESULTS / "day_ahead_pm25_selection.json"
MAX_DEEP_TIMESTEPS = 72  # a 168-h window costs ~7x a 24-h one per epoch: Ridge only


def _case(frame, timesteps, change, validation, max_train, seeds, deep, overrides):
    split = day_ahead_split(frame, max_train, validation, timesteps=timesteps, change=change)
    runner = Runner(split, seeds, split.persistence, day_ahead_scores(split))
    runner.add_fixed("persistence", split.persistence)
    runner.add_fixed("seasonal naive (same hour yesterday)", split.extra["seasonal_naive"])
    runner.add("Ridge (alpha 10)", lambda seed: Ridge(alpha=10.0), seeded=False, flatten=True)
    if deep:
        runner.add("LSTM-SAE (defaults)",
                   lambda seed: LSTMSAERegressor(random_state=seed, **overrides))
        runner.add("DLSTM (defaults, pretraining=None)",
                   lambda seed: LSTMSAERegressor(random_state=seed,
                                                 **{**overrides, "pretraining": None}))
    return split, runner


def _label(timesteps, change):
    return f"{timesteps} h, {'change' if change else 'level'}"


def _row_cells(name, row):
    return [name, f"{row['rmse']['mean']:.2f}", f"{100 * row['skill_lead_24']['mean']:+.1f}%",
            f"{100 * row['skill_mean_over_leads']['mean']:+.1f}%",
            f"{row['fit_seconds']['mean']:.0f}", str(row["seeds"])]


HEADER = ["model", "RMSE", "skill at lead 24", "mean skill over leads", "fit (s)", "seeds"]


def select(args, frame):
    """Ridge on every pair (validation); the best affordable pair is chosen."""
    results = {}
    for timesteps in WINDOWS:
        for change in (False, True):
            _, runner = _case(frame, timesteps, change, True, args.max_train, [0], False, {})
            results[_label(timesteps, change)] = {
                "timesteps": timesteps, "change": change, "rows": runner.rows}
    affordable = [k for k in results if results[k]["timesteps"] <= MAX_DEEP_TIMESTEPS]
    ranked = sorted(affordable, key=lambda k: -results[k]["rows"]["Ridge (alpha 10)"][
        "skill_mean_over_leads"]["mean"])
    chosen = ranked[0]
    payload = {"machine": machine_info(), "scored_on": "validation: last 20% of the "
               "training windows", "chosen": results[chosen] | {"label": chosen},
               "candidates": results}
    path = write_json(args.out or (SELECTION.with_name("day_ahead_pm25_selection_quick.json")
                                   if args.quick else SELECTION), payload)
    for label, entry in results.items():
        print(f"\n### {label}\n")
        print(markdown_table(HEADER, [_row_cells(n, r) for n, r in entry["rows"].items()]))
    print(f"\nchosen: {chosen}\nwrote {path}")


def evaluate(args, frame):
    chosen = json.loads(SELECTION.read_text())["chosen"] if SELECTION.exists() else None
    timesteps = args.timesteps or (chosen["timesteps"] if chosen else 72)
    change = chosen["change"] if chosen and args.target is None else args.target == "change"
    seeds = list(range(args.seeds))
    with Stopwatch() as total:
        split, runner = _case(frame, timesteps, change, False, args.max_train, seeds, True,
                              args.overrides)
    rows = runner.rows
    checks = {name: {"skill at lead 24 >= 20%":
                     row["skill_lead_24"]["mean"] >= TARGETS["skill_lead_24_min"],
                     "mean skill over leads >= 10%":
                     row["skill_mean_over_leads"]["mean"] >= TARGETS["skill_mean_min"]}
              for name, row in rows.items() if "defaults" in name}
    payload = {
        "benchmark": "day_ahead_pm25",
        "command": "python benchmarks/day_ahead_pm25.py " + " ".join(args.argv),
        "machine": machine_info(), "total_seconds": total.seconds,
        "protocol": {"timesteps": timesteps, "target": "change" if change else "level",
                     "train_windows": len(split.X_train), "test_windows": len(split.X_test),
                     "chosen_on_validation": chosen is not None and args.timesteps is None,
                     "overrides": args.overrides},
        "targets": TARGETS, "targets_met": checks, "rows": rows,
    }
    stem = "day_ahead_pm25_quick" if args.quick else "day_ahead_pm25"
    path = write_json(args.out or RESULTS / f"{stem}.json", payload)
    _plot(rows, path.with_suffix(".png"), _label(timesteps, change))
    print(f"\n## 24 hours ahead, {_label(timesteps, change)} ({len(seeds)} seed(s))\n")
    print(markdown_table(HEADER, [_row_cells(n, r) for n, r in rows.items()]))
    print(f"\ntargets met: {checks}\nwrote {path}")


def _plot(rows, path, label):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    leads = np.arange(1, DAY + 1)
    for name, row in rows.items():
        if name != "persistence":
            ax.plot(leads, 100 * np.asarray(row["by_lead"]["skill_vs_persistence_by_lead"]),
                    marker="o", ms=3, label=name)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("lead time (hours)")
    ax.set_ylabel("skill vs persistence (%)")
    ax.set_title(f"24-h ahead PM2.5 ({label}): skill by lead time")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--select", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2,000 training windows, tiny networks")
    parser.add_argument("--seeds", type=int, default=1,
                        help="seeds of the deep contenders (each fit takes minutes)")
    parser.add_argument("--timesteps", type=int, default=None,
                        help="window length (default: the one chosen by --select)")
    parser.add_argument("--target", choices=("level", "change"), default=None)
    parser.add_argument("--max-train", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    args.overrides = {}
    if args.quick:
        args.seeds, args.max_train = 1, args.max_train or 2000
        args.overrides = {"hidden_units": (8, 4), "epochs": 2,
                          "pretraining": LSTMSAEEncoder(pretrain_epochs=1)}
    frame = load_table()
    (select if args.select else evaluate)(args, frame)


if __name__ == "__main__":
    main()
