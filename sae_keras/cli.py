"""The ``sae-keras`` command: train an LSTM-SAE forecaster and report honestly.

With no arguments it trains on the bundled Beijing PM2.5 data, prints test
RMSE / MAE / SMAPE beside persistence and a Ridge baseline, and writes the
model, two plots and the metrics to ``sae_keras_output/``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _int_list(text):
    try:
        values = tuple(_positive_int(part) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 32,16, got {text!r}"
        ) from None
    return values


@contextlib.contextmanager
def _quiet_native_stderr():
    """Send what native code writes to file descriptor 2 to /dev/null meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def build_parser():
    """The command-line interface of ``sae-keras``."""
    parser = _Parser(
        prog="sae-keras",
        description=(
            "Train an LSTM stacked-autoencoder forecaster (greedy pretraining, then "
            "fine-tuning) on a time series, compare it with persistence and Ridge on "
            "the last part of the series, and save the model, plots and metrics."
        ),
    )
    parser.add_argument("--data", type=Path, help="CSV file, one row per time step (default: bundled Beijing PM2.5)")
    parser.add_argument("--target", default=None, help="column to forecast (default: pollution, or the first numeric column)")
    parser.add_argument("--target-mode", choices=("change", "level"), default="change", help="learn the change from the last observed value (default) or the level itself")
    parser.add_argument("--timesteps", type=_positive_int, default=24, help="window length (default 24)")
    parser.add_argument("--horizon", type=_positive_int, default=1, help="steps ahead to forecast (default 1)")
    parser.add_argument("--hidden-units", type=_int_list, default=None, help="units per stacked layer (default: LSTMSAERegressor's, 64,32)")
    parser.add_argument("--pretraining", choices=("input", "previous", "none"), default="input", help="pretraining target (default input)")
    parser.add_argument("--pretrain-epochs", type=_int_list, default=None, help="epochs per autoencoder: one value or one per layer (default: LSTMSAERegressor's)")
    parser.add_argument("--epochs", type=_positive_int, default=None, help="most fine-tuning epochs; early stopping ends sooner (default: LSTMSAERegressor's)")
    parser.add_argument("--batch-size", type=_positive_int, default=None, help="windows per step (default: LSTMSAERegressor's)")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="last fraction of windows kept for testing (default 0.2)")
    parser.add_argument("--strategy", choices=("auto", "cpu", "gpu", "mirrored"), default="auto", help="where to train (default auto)")
    parser.add_argument("--output", type=Path, default=Path("sae_keras_output"), help="output folder (default sae_keras_output)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--quiet", action="store_true", help="print only the results table")
    return parser


def main(argv=None):
    """Run the command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 < args.test_fraction < 1:
        parser.error(f"argument --test-fraction: expected a number in (0, 1), got {args.test_fraction}")
    n_layers = len(args.hidden_units) if args.hidden_units else 2  # the estimator's (64, 32)
    if args.pretrain_epochs and len(args.pretrain_epochs) not in (1, n_layers):
        parser.error(
            f"argument --pretrain-epochs: give one value or one per layer "
            f"({n_layers}), got {len(args.pretrain_epochs)}"
        )
    with _quiet_native_stderr():
        # TensorFlow logs from C++ at import and device discovery; the user
        # should see only this command's own messages.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from . import _job
        from .distribute import resolve_strategy

        try:
            resolve_strategy(args.strategy)
        except RuntimeError as exc:
            strategy_error = str(exc)
        else:
            strategy_error = None
    if strategy_error:
        print(f"sae-keras: error: {strategy_error}", file=sys.stderr)
        return EXIT_USAGE

    try:
        frame, target = _job.load_table(args.data, args.target)
        data = _job.prepare_windows(frame, target, args.timesteps, args.horizon, args.test_fraction)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        message = " ".join(str(exc).split())
        print(f"sae-keras: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        print(
            f"sae-keras: {len(data.X_train)} training and {len(data.X_test)} test windows "
            f"of {data.X_train.shape[1]} steps x {data.X_train.shape[2]} channels, "
            f"target {data.target!r}",
            flush=True,
        )
    started = time.perf_counter()
    result = _job.run(data, args)
    seconds = round(time.perf_counter() - started, 1)
    files = _job.save(result, args.output, seconds)
    print(_job.format_table(result.metrics))
    print(f"\nfitted in {seconds} s; wrote {', '.join(files)} to {args.output}/")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
