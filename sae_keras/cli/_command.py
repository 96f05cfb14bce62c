"""The ``sae-keras`` command: train an LSTM-SAE forecaster and report honestly.

With no arguments it trains on the bundled Beijing PM2.5 data, prints test
RMSE / MAE / SMAPE beside persistence and a Ridge baseline, and writes the
model (``model.zip``, a :class:`~sae_keras.TableForecaster`), two plots and the
metrics to ``sae_keras_output/``. ``sae-keras predict --model model.zip --data
new.csv`` forecasts from new rows with that file.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import sys
import time
import warnings
from pathlib import Path

from ._native_logs import quiet_backend_import

EXIT_USAGE = 2
MIN_TEST_WINDOWS = 100  # fewer test windows give scores too noisy to act on


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


def _patch_size(text):
    """``--patch-size``: a positive integer or ``auto``."""
    if text == "auto":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'auto', got {text!r}") from None


def _encoding(text):
    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(
            f"unknown encoding {text!r}; try utf-8, latin-1, cp1252 or utf-16"
        ) from None
    return text


_ENCODING_HELP = (
    "text encoding of the CSV, e.g. latin-1, cp1252, utf-16 (default utf-8; a UTF-8 "
    "byte-order mark is skipped)"
)


def _int_list(text):
    try:
        values = tuple(_positive_int(part) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 32,16, got {text!r}"
        ) from None
    return values


def build_parser():
    """The command-line interface of ``sae-keras``."""
    parser = _Parser(
        prog="sae-keras",
        description=(
            "Train an LSTM stacked-autoencoder forecaster (greedy pretraining, then "
            "fine-tuning) on a time series, compare it with persistence and Ridge on "
            "the last part of the series, and save the model, plots and metrics."
        ),
        epilog=(
            "To forecast new rows with a saved model: sae-keras predict --model "
            "sae_keras_output/model.zip --data new.csv (see sae-keras predict --help)."
        ),
    )
    parser.add_argument("--data", type=Path, help="CSV file, one row per time step (default: bundled Beijing PM2.5)")
    parser.add_argument("--target", default=None, help="column to forecast (default: pollution, or the first column after the time column)")
    parser.add_argument("--time-column", default=None, metavar="COL", help="column of timestamps (default: the first column if all of it parses as dates)")
    parser.add_argument("--id-column", default=None, metavar="COL", help="column naming the series of each row, for a long table of many series: one model over all of them, each series split in time alike (default: the table is one series)")
    parser.add_argument("--sort-time", action="store_true", help="sort rows by time (default: rows out of time order are an error)")
    parser.add_argument("--allow-gaps", action="store_true", help="accept timestamps that are not one step apart (default: an error naming the first gap; resample instead)")
    parser.add_argument("--encoding", type=_encoding, default="utf-8", help=_ENCODING_HELP)
    parser.add_argument("--categorical", nargs="+", default=None, metavar="COL", help="columns of categories, encoded as codes (default: none; wnd_dir for the bundled data); any other non-numeric value is an error")
    parser.add_argument("--target-mode", choices=("change", "level"), default="change", help="learn the change from the last observed value (default) or the level itself")
    parser.add_argument("--timesteps", type=_positive_int, default=24, help="window length (default 24)")
    parser.add_argument("--horizon", type=_positive_int, default=1, help="steps ahead to forecast (default 1)")
    parser.add_argument("--hidden-units", type=_int_list, default=None, help="units per stacked layer (default: LSTMSAERegressor's, 64,32)")
    parser.add_argument("--pretraining", choices=("input", "previous", "none"), default="input", help="pretraining target (default input)")
    parser.add_argument("--pretrain-epochs", type=_int_list, default=None, help="epochs per autoencoder: one value or one per layer (default: LSTMSAERegressor's)")
    parser.add_argument("--pretrain-stride", type=_positive_int, default=None, metavar="K", help="pretrain each autoencoder on every K-th training window; the input scaling still reads them all (default: LSTMSAEEncoder's, 1)")
    parser.add_argument("--patch-size", type=_patch_size, default=None, metavar="P", help="steps of a window each encoder reads as one, in pretraining and fine-tuning, or 'auto' (at most 16 steps) (default: LSTMSAERegressor's, 1)")
    parser.add_argument("--epochs", type=_positive_int, default=None, help="most fine-tuning epochs; early stopping ends sooner (default: LSTMSAERegressor's)")
    parser.add_argument("--batch-size", type=_positive_int, default=None, help="windows per step, in pretraining and fine-tuning (default: LSTMSAERegressor's)")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="last fraction of windows kept for testing (default 0.2)")
    parser.add_argument("--strategy", choices=("auto", "cpu", "gpu", "mirrored"), default="auto", help="where to train (default auto)")
    parser.add_argument("--output", type=Path, default=Path("sae_keras_output"), help="output folder (default sae_keras_output)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--force", action="store_true", help=f"go on when the test part has fewer than {MIN_TEST_WINDOWS} windows")
    parser.add_argument("--quiet", action="store_true", help="print only the results table")
    return parser


def build_predict_parser():
    """The ``sae-keras predict`` subcommand."""
    parser = _Parser(
        prog="sae-keras predict",
        description=(
            "Forecast from every complete window of a CSV with a model file written by "
            "sae-keras (model.zip), in the data's units, one row per window labelled by "
            "the time of its last observed step."
        ),
    )
    parser.add_argument("--model", type=Path, required=True, help="model file (model.zip from a sae-keras run)")
    parser.add_argument("--data", type=Path, required=True, help="CSV with the columns the model was fitted on (at least timesteps rows)")
    parser.add_argument("--sort-time", action="store_true", help="sort rows by time first (default: rows out of time order are an error)")
    parser.add_argument("--encoding", type=_encoding, default="utf-8", help=_ENCODING_HELP)
    parser.add_argument("--output", type=Path, default=None, help="CSV file to write (default: print to standard output)")
    return parser


def _error(message):
    """Print a one-line error; return the usage exit code."""
    print(f"sae-keras: error: {' '.join(str(message).split())}", file=sys.stderr)
    return EXIT_USAGE


@contextlib.contextmanager
def _warnings_as_lines(shown):
    """Print the user warnings raised inside as one ``sae-keras: warning:`` line each.

    ``shown``: the messages printed so far (updated), each printed once.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            yield
    finally:
        for warning in caught:
            message = str(warning.message)
            if not issubclass(warning.category, UserWarning):
                warnings.warn_explicit(warning.message, warning.category,
                                       warning.filename, warning.lineno)
            elif message not in shown:
                shown.add(message)
                print(f"sae-keras: warning: {' '.join(message.split())}", file=sys.stderr)


def predict(argv):
    """``sae-keras predict``: forecasts of a saved model on a new CSV."""
    args = build_predict_parser().parse_args(argv)
    try:
        from ..data import _table

        frame = _table.read_csv(args.data, args.encoding)
        with quiet_backend_import():
            from .. import load

            model = load(args.model)
        if not hasattr(model, "columns_"):
            raise ValueError(f"{args.model} holds a {type(model).__name__}, not a model of a table")
        if args.sort_time:
            if model.time_column_ is None:
                raise ValueError(
                    f"{args.model} reads rows in the order given (it was fitted without a "
                    "time column): --sort-time has no time to sort by"
                )
            frame = _table.time_indexed(frame, model.time_column_, sort=True)[0]
        forecasts = model.predict(frame)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return _error(exc)
    if args.output is None:
        with contextlib.suppress(BrokenPipeError):  # `sae-keras predict ... | head`
            forecasts.to_csv(sys.stdout)
    else:
        forecasts.to_csv(args.output)
        print(f"wrote {len(forecasts)} forecasts to {args.output}")
    return 0


def main(argv=None):
    """Run the command; return its exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["predict"]:
        return predict(argv[1:])
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
    if args.pretraining == "none":
        for option, value in (("--pretrain-epochs", args.pretrain_epochs),
                              ("--pretrain-stride", args.pretrain_stride)):
            if value is not None:
                parser.error(f"argument {option}: nothing is pretrained with --pretraining "
                             "none; leave it out, or choose --pretraining input or previous")
    with quiet_backend_import():
        from . import _job
        from ..nn.distribute import resolve_strategy

        try:
            resolve_strategy(args.strategy)
        except RuntimeError as exc:
            strategy_error = str(exc)
        else:
            strategy_error = None
    if strategy_error:
        return _error(strategy_error)

    shown = set()
    try:
        with _warnings_as_lines(shown):
            data = _job.prepare(*_job.read_data(args), args)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return _error(exc)
    if data.test_windows < MIN_TEST_WINDOWS:
        print(
            f"sae-keras: warning: the test part has {data.test_windows} windows, fewer than "
            f"{MIN_TEST_WINDOWS}: its scores would be too noisy to compare models; use "
            "more rows or a larger --test-fraction"
            + ("" if args.force else ", or pass --force to go on anyway"),
            file=sys.stderr,
        )
        if not args.force:
            return EXIT_USAGE
    if not args.quiet:
        print(
            f"sae-keras: {data.train_windows} training and {data.test_windows} test windows "
            f"of {args.timesteps} steps x {data.channels} channels, target {data.target!r}",
            flush=True,
        )
    started = time.perf_counter()
    with _warnings_as_lines(shown):
        result = _job.run(data, args)
    seconds = round(time.perf_counter() - started, 1)
    files = _job.save(result, args.output, seconds)
    print(_job.format_table(result.metrics))
    print(f"\nfitted in {seconds} s; wrote {', '.join(files)} to {args.output}/")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
