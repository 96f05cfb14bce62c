"""Training speed: sae_keras against plain Keras and PyTorch on the same network.

One network, the authors' PM2.5 forecaster (LSTM 35 → 49 → 4 over 25 steps × 8
channels, dropout 0.2 after each LSTM, codes repeated between layers, a dense
head), the same random windows and targets, batch 219, Adam 1e-3, MSE, the same
epochs. Contenders, each in a fresh process, interleaved over repeats:

- ``sae_keras`` — ``LSTMSAERegressor.fit`` with ``pretraining=None`` (fine-tuning
  alone) and with pretraining (three autoencoders, then fine-tuning), on each
  Keras backend;
- ``plain Keras`` — the same network as a functional model and ``model.fit`` with
  its defaults (shuffle on), as a tutorial writes it, on each backend;
- ``PyTorch`` — the same network with ``torch.nn.LSTM`` and a plain training loop
  (the optional ``bench`` extra; skipped with a printed reason without torch).

Figures: steady samples/s (windows per second over the epochs after the first,
which compiles), whole-fit samples/s (from the data in memory to the trained
model: building, compiling and every epoch), the final training
loss (equal work must reach an equal loss), GFLOP/s of the training arithmetic
(3 × the forward multiply-adds × 2 of a standard LSTM) against a float32 numpy
matmul measured in the same run, and the same fits two at a time (as
``GridSearchCV(n_jobs=2)`` runs them): each one's rate and their sum.

Usage::

    python benchmarks/speed.py            # full: 35,040 windows, 3 epochs, 3 repeats
    python benchmarks/speed.py --quick    # 4,000 windows, 3 epochs, 1 repeat

writes ``benchmarks/results/speed[_quick].json`` and ``.png`` and prints tables.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, finish_worker, machine_info, markdown_table, median_spread
from _common import report, run_worker, save_figure, start_worker, write_json

SCRIPT = Path(__file__).resolve()
TIMESTEPS, CHANNELS, UNITS, DROPOUT, BATCH, LEARNING_RATE = 25, 8, (35, 49, 4), 0.2, 219, 1e-3
BACKENDS = ("tensorflow", "jax")

#: name -> (worker kind, Keras backend or None)
CONTENDERS = {
    "sae_keras, no pretraining (tensorflow)": ("sae", "tensorflow"),
    "sae_keras, no pretraining (jax)": ("sae", "jax"),
    "sae_keras, pretraining (tensorflow)": ("sae_pretrain", "tensorflow"),
    "sae_keras, pretraining (jax)": ("sae_pretrain", "jax"),
    "plain Keras model.fit (tensorflow)": ("plain", "tensorflow"),
    "plain Keras model.fit (jax)": ("plain", "jax"),
    "PyTorch": ("torch", None),
}
#: contenders also run two at a time: one fine-tuning network each
CONCURRENT = [name for name, (kind, _) in CONTENDERS.items() if kind != "sae_pretrain"]


def training_flops_per_window(timesteps=TIMESTEPS, channels=CHANNELS, units=UNITS):
    """FLOPs to train on one window: 3 × forward, forward = 2 × multiply-adds."""
    macs, inputs = 0, channels
    for width in units:
        macs += timesteps * 4 * width * (inputs + width)
        inputs = width
    macs += units[-1]  # the head
    return 3 * 2 * macs


def data(n_windows, seed=0):
    """Random windows and targets: the arithmetic, not the data, is measured here."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_windows, TIMESTEPS, CHANNELS)).astype(np.float32)
    y = (X[:, -1, 0] * 0.5 + 0.1 * rng.normal(size=n_windows)).astype(np.float32)
    return X, y


# -- workers ------------------------------------------------------------------


def _epoch_rates(phases, n_windows):
    """Per phase, windows per second of each epoch after the first."""
    rates = {}
    for phase, stamps in phases.items():
        durations = np.diff(stamps)
        steady = durations[1:] if len(durations) > 1 else durations
        rates[phase] = [n_windows / d for d in steady]
    return rates


def _keras_timer(phases):
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            phases[f"phase_{len(phases) + 1}"] = [time.perf_counter()]

        def on_epoch_end(self, epoch, logs=None):
            phases[f"phase_{len(phases)}"].append(time.perf_counter())

    return EpochTimer()


def worker_sae(n_windows, epochs, pretrain):
    from sae_keras import LSTMSAEEncoder, LSTMSAERegressor

    X, y = data(n_windows)
    phases = {}
    # Pretraining trains as fine-tuning does: the same epochs, batch and rate.
    pretraining = LSTMSAEEncoder(pretrain_epochs=epochs, batch_size=BATCH,
                                 learning_rate=LEARNING_RATE, early_stopping=False)
    regressor = LSTMSAERegressor(
        UNITS, pretraining=pretraining if pretrain else None,
        epochs=epochs, dropout=DROPOUT, batch_size=BATCH, learning_rate=LEARNING_RATE,
        random_state=0, callbacks=[_keras_timer(phases)],
        # The same network and training as the plain Keras and PyTorch contenders:
        # no built-in scaling, no linear skip, fixed epochs.
        scaling=None, linear_skip=None, early_stopping=False,
    )
    start = time.perf_counter()
    regressor.fit(X, y)
    seconds = time.perf_counter() - start
    names = list(regressor.history_)  # pretrain_1 ... then finetune, in training order
    phases = dict(zip(names, phases.values()))
    return {"fit_seconds": seconds, "phase_rates": _epoch_rates(phases, n_windows),
            "final_loss": regressor.history_["finetune"]["loss"][-1],
            "windows_trained": n_windows * epochs * len(names)}


def worker_plain(n_windows, epochs):
    import keras
    from keras import layers

    X, y = data(n_windows)
    start = time.perf_counter()  # building and compiling count, as they do inside fit
    keras.utils.set_random_seed(0)
    inputs = keras.Input((TIMESTEPS, CHANNELS))
    hidden = inputs
    for index, width in enumerate(UNITS):
        hidden = layers.Dropout(DROPOUT)(layers.LSTM(width)(hidden))
        if index < len(UNITS) - 1:
            hidden = layers.RepeatVector(TIMESTEPS)(hidden)
    model = keras.Model(inputs, layers.Dense(1)(hidden))
    model.compile(keras.optimizers.Adam(LEARNING_RATE), "mse")
    phases = {}
    history = model.fit(X, y, batch_size=BATCH, epochs=epochs, verbose=0,
                        callbacks=[_keras_timer(phases)])
    seconds = time.perf_counter() - start
    return {"fit_seconds": seconds,
            "phase_rates": _epoch_rates({"finetune": phases["phase_1"]}, n_windows),
            "final_loss": history.history["loss"][-1], "windows_trained": n_windows * epochs}


def worker_torch(n_windows, epochs):
    import torch
    from torch import nn

    X, y = (torch.from_numpy(a) for a in data(n_windows))
    start = time.perf_counter()
    torch.manual_seed(0)

    class Forecaster(nn.Module):
        def __init__(self):
            super().__init__()
            widths = (CHANNELS,) + UNITS
            self.lstms = nn.ModuleList(
                nn.LSTM(i, o, batch_first=True) for i, o in zip(widths[:-1], widths[1:])
            )
            self.dropout = nn.Dropout(DROPOUT)
            self.head = nn.Linear(UNITS[-1], 1)

        def forward(self, x):
            for index, lstm in enumerate(self.lstms):
                _, (h, _) = lstm(x)
                codes = self.dropout(h[-1])
                if index < len(self.lstms) - 1:
                    x = codes.unsqueeze(1).expand(-1, TIMESTEPS, -1)
            return self.head(codes).squeeze(-1)

    model = Forecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    stamps, losses = [time.perf_counter()], []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for rows in torch.randperm(n_windows).split(BATCH):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(X[rows]), y[rows])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        losses.append(total / n_windows)
        stamps.append(time.perf_counter())
    return {"fit_seconds": stamps[-1] - start,
            "phase_rates": _epoch_rates({"finetune": stamps}, n_windows),
            "final_loss": losses[-1], "windows_trained": n_windows * epochs,
            "torch": torch.__version__, "torch_threads": torch.get_num_threads()}


def worker_matmul(size=2048, repeats=7):
    """Best float32 matmul GFLOP/s of numpy, and which BLAS kernel ran."""
    a = np.random.default_rng(0).normal(size=(size, size)).astype(np.float32)
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(repeats))
    try:
        from threadpoolctl import threadpool_info

        blas = [{k: info.get(k) for k in ("internal_api", "architecture", "num_threads",
                                             "version")} for info in threadpool_info()]
    except ImportError:
        blas = "threadpoolctl not installed"
    return {"gflops": 2 * size**3 / best / 1e9, "size": size, "blas": blas}


def _timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def run_as_worker(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("kind")
    parser.add_argument("n_windows", type=int)
    parser.add_argument("epochs", type=int)
    args = parser.parse_args(argv)
    if args.kind == "matmul":
        report(worker_matmul())
        return
    if args.kind == "torch":
        try:
            import torch  # noqa: F401
        except ImportError:
            report({"skipped": "torch is not installed (pip install '.[bench]')"})
            return
    workers = {
        "sae": lambda: worker_sae(args.n_windows, args.epochs, pretrain=False),
        "sae_pretrain": lambda: worker_sae(args.n_windows, args.epochs, pretrain=True),
        "plain": lambda: worker_plain(args.n_windows, args.epochs),
        "torch": lambda: worker_torch(args.n_windows, args.epochs),
    }
    report(workers[args.kind]())


# -- the run ------------------------------------------------------------------


def _steady(result):
    """Median steady rate of the fine-tuning phase."""
    return float(np.median(result["phase_rates"]["finetune"]))


def run(n_windows, epochs, repeats, concurrent_repeats, contenders):
    # numpy at full speed: without the machine-wide OpenBLAS core override
    # (../shared/guides/benchmarks.md), in this one worker only.
    matmul = run_worker(SCRIPT, ["matmul", 0, 0], unset=("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"))
    alone = {name: [] for name in contenders}
    together = {name: [] for name in contenders if name in CONCURRENT}
    for repeat in range(repeats):
        order = contenders[repeat % len(contenders):] + contenders[:repeat % len(contenders)]
        for name in order:
            kind, backend = CONTENDERS[name]
            result = run_worker(SCRIPT, [kind, n_windows, epochs], backend=backend)
            print(f"repeat {repeat + 1}: {name}: {_describe(result)}", flush=True)
            alone[name].append(result)
    for repeat in range(concurrent_repeats):
        for name in together:
            kind, backend = CONTENDERS[name]
            pair = [start_worker(SCRIPT, [kind, n_windows, epochs], backend=backend)
                    for _ in range(2)]
            results = [finish_worker(process) for process in pair]
            print(f"two at once {repeat + 1}: {name}: "
                  + "; ".join(_describe(r) for r in results), flush=True)
            together[name].append(results)
    return matmul, alone, together


def _describe(result):
    if "error" in result or "skipped" in result:
        return result.get("skipped") or "FAILED: " + result["error"][-300:]
    return f"{_steady(result):,.0f} windows/s, loss {result['final_loss']:.4f}"


def summarise(matmul, alone, together, flops):
    rows = {}
    for name, results in alone.items():
        ok = [r for r in results if "phase_rates" in r]
        if not ok:
            rows[name] = {"status": _describe(results[0]) if results else "not run"}
            continue
        phases = {phase: median_spread([np.median(r["phase_rates"][phase]) for r in ok])
                  for phase in ok[0]["phase_rates"]}
        steady = phases["finetune"]["median"]
        rows[name] = {
            "steady_windows_per_s": phases["finetune"],
            "phase_windows_per_s": phases,
            "fit_windows_per_s": median_spread(
                [r["windows_trained"] / r["fit_seconds"] for r in ok]),
            "fit_seconds": median_spread([r["fit_seconds"] for r in ok]),
            "final_loss": median_spread([r["final_loss"] for r in ok]),
            "gflops": steady * flops / 1e9,
            "fraction_of_matmul": steady * flops / 1e9 / matmul["gflops"]
            if "gflops" in matmul else None,
        }
        pairs = [p for p in together.get(name, []) if all("phase_rates" in r for r in p)]
        if pairs:
            rows[name]["two_at_once_each"] = median_spread(
                [_steady(r) for pair in pairs for r in pair])
            rows[name]["two_at_once_aggregate"] = median_spread(
                [sum(_steady(r) for r in pair) for pair in pairs])
    return rows


def ratios(rows):
    """The issue's comparisons, each as a ratio of medians (None when a side is missing)."""
    def steady(name, key="steady_windows_per_s"):
        row = rows.get(name, {})
        return row[key]["median"] if key in row else None

    def ratio(a, b):
        return a / b if a is not None and b else None

    result = {}
    for backend in BACKENDS:
        ours = steady(f"sae_keras, no pretraining ({backend})")
        result[f"sae_vs_plain_{backend}"] = ratio(ours, steady(f"plain Keras model.fit ({backend})"))
        result[f"sae_vs_torch_{backend}"] = ratio(ours, steady("PyTorch"))
        phases = rows.get(f"sae_keras, pretraining ({backend})", {}).get("phase_windows_per_s")
        if phases:
            fine = phases["finetune"]["median"]
            result[f"pretraining_vs_finetuning_{backend}"] = {
                phase: value["median"] / fine for phase, value in phases.items()
                if phase != "finetune"}
        ours_two = steady(f"sae_keras, no pretraining ({backend})", "two_at_once_aggregate")
        others = [steady(name, "two_at_once_aggregate") for name in rows
                  if not name.startswith("sae_keras")]
        others = [o for o in others if o is not None]
        result[f"two_at_once_sae_{backend}_vs_best_other"] = ratio(
            ours_two, max(others) if others else None)
    return result


def table(rows, matmul):
    header = ["contender", "steady windows/s (min–max)", "whole fit windows/s", "final loss",
              "GFLOP/s", "% of matmul", "two at once: each / sum"]
    lines = []
    for name, row in rows.items():
        if "steady_windows_per_s" not in row:
            lines.append([name, row["status"], "", "", "", "", ""])
            continue
        s = row["steady_windows_per_s"]
        two = (f"{row['two_at_once_each']['median']:,.0f} / "
               f"{row['two_at_once_aggregate']['median']:,.0f}"
               if "two_at_once_aggregate" in row else "—")
        fraction = row["fraction_of_matmul"]
        lines.append([
            name, f"{s['median']:,.0f} ({s['min']:,.0f}–{s['max']:,.0f})",
            f"{row['fit_windows_per_s']['median']:,.0f}",
            f"{row['final_loss']['median']:.4f}", f"{row['gflops']:.1f}",
            f"{100 * fraction:.0f}%" if fraction is not None else "—", two,
        ])
    note = (f"float32 matmul: {matmul.get('gflops', float('nan')):.1f} GFLOP/s "
            f"({matmul.get('size')}², best of 7)")
    return markdown_table(header, lines) + "\n\n" + note


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, r in rows.items() if "steady_windows_per_s" in r]
    medians = [rows[n]["steady_windows_per_s"]["median"] for n in names]
    low = [m - rows[n]["steady_windows_per_s"]["min"] for n, m in zip(names, medians)]
    high = [rows[n]["steady_windows_per_s"]["max"] - m for n, m in zip(names, medians)]
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(names) + 1.5))
    ax.barh(names, medians, xerr=[low, high], color="tab:blue", label="one fit alone")
    paired = [n for n in names if "two_at_once_aggregate" in rows[n]]
    if paired:
        ax.scatter([rows[n]["two_at_once_aggregate"]["median"] for n in paired], paired,
                   color="tab:red", zorder=3, label="two fits at once, sum")
    ax.set_xlabel("training windows per second (steady epochs; bars: min–max)")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    save_figure(fig, path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        run_as_worker(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4,000 windows, 1 repeat")
    parser.add_argument("--windows", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--concurrent-repeats", type=int, default=None)
    parser.add_argument("--only", nargs="+", choices=list(CONTENDERS), default=None)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    n_windows = args.windows or (4_000 if args.quick else 35_040)
    repeats = args.repeats or (1 if args.quick else 3)
    concurrent = args.concurrent_repeats if args.concurrent_repeats is not None else (
        1 if args.quick else 2)
    contenders = args.only or list(CONTENDERS)
    info = machine_info()
    matmul, alone, together = run(n_windows, args.epochs, repeats, concurrent, contenders)
    flops = training_flops_per_window()
    rows = summarise(matmul, alone, together, flops)
    payload = {
        "machine": info, "matmul": matmul,
        "settings": {"windows": n_windows, "epochs": args.epochs, "repeats": repeats,
                     "concurrent_repeats": concurrent, "timesteps": TIMESTEPS,
                     "channels": CHANNELS, "units": UNITS, "dropout": DROPOUT,
                     "batch_size": BATCH, "learning_rate": LEARNING_RATE,
                     "training_flops_per_window": flops},
        "rows": rows, "ratios": ratios(rows), "raw": {"alone": alone, "together": together},
    }
    name = "speed_quick" if args.quick else "speed"
    write_json(args.output / f"{name}.json", payload)
    try:
        plot(rows, args.output / f"{name}.png")
    except ImportError:
        print("matplotlib missing: no plot")
    print(table(rows, matmul))
    print()
    print(markdown_table(["ratio", "value"], [[k, _format_ratio(v)] for k, v in
                                              payload["ratios"].items()]))
    return 0


def _format_ratio(value):
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v:.2f}" for k, v in value.items())
    return "—" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
