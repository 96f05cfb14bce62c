"""Property-based tests: whatever a user passes is refused with a clear error, or handled.

Every generated case must be refused before any training with a ``ValueError``
or ``TypeError`` whose message names the argument at fault, or be handled
correctly; no case modifies its input, and none raises anything else. Fit-time
cases run on an estimator whose training is replaced by a sentinel exception
(:class:`_Accepted`): reaching it means every check passed, and the inputs are
then checked to be ones training can read. Predict-time cases run on one
fitted estimator per module. Generation is derandomized, so every run (and CI)
sees the same cases, and each test fails unless it generated as many as it asks for.
"""

import collections
import copy
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sae_keras import LSTMSAERegressor, TableForecaster
from sae_keras.cli import _job
from sae_keras.cli._command import build_parser
from conftest import Settings, sine_windows, tiny_pretraining

FUZZ = Settings(hidden_units=(2,), epochs=1, batch_size=32, random_state=0,
                early_stopping=False, pretraining=tiny_pretraining(early_stopping=False))
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


#: Generated cases per test, counted as they run.
CASES = collections.Counter()
#: How they ended: (argument, "accepted" / "refused" / "handled").
OUTCOMES = collections.Counter()


def fuzz(cases):
    """Hypothesis's settings for a fuzz test that must generate ``cases`` cases."""
    def decorate(test):
        test = settings(max_examples=cases, **SETTINGS)(test)
        test.cases_asked = cases
        return test
    return decorate


@pytest.fixture(autouse=True)
def _every_case_ran(request):
    """A fuzz test fails unless it generated the cases it asks for (in its own process)."""
    asked = getattr(request.function, "cases_asked", 0)
    before = sum(CASES.values())
    yield
    ran = sum(CASES.values()) - before
    assert ran >= asked, f"{ran} generated cases, {asked} asked"


class _Accepted(Exception):
    """Raised where training would start: every input check has passed."""


class _CheckedRegressor(LSTMSAERegressor):
    """An ``LSTMSAERegressor`` that stops where training would start."""

    def _start_fit(self, *args, **kwargs):
        raise _Accepted


class _CheckedWindowsRegressor:
    """A regressor of windows for ``TableForecaster`` that stops at ``fit``."""

    def fit(self, X, y):
        raise _Accepted(X, y)

    def predict(self, X):  # pragma: no cover - never fitted
        raise AssertionError

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


# -- outcomes -----------------------------------------------------------------


def _outcome(call, argument):
    """``"accepted"`` / ``"refused"`` / the result; anything but a named refusal fails."""
    try:
        result = call()
    except _Accepted as accepted:
        OUTCOMES[argument, "accepted"] += 1
        return accepted
    except (ValueError, TypeError) as error:
        OUTCOMES[argument, "refused"] += 1
        message = str(error)
        assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(argument)}(?![A-Za-z0-9_])", message), (
            f"{type(error).__name__} does not name {argument!r}: {message}"
        )
        return "refused"
    OUTCOMES[argument, "handled"] += 1
    return result


def _same(a, b):
    """Whether ``b`` is an untouched copy of ``a`` (arrays, frames, lists, scalars)."""
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b)
        except AssertionError:
            return False
        return True
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return a.tolist() == b.tolist()
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return a is b or a == b or (a != a and b != b)


def _unchanged(*values):
    copies = [copy.deepcopy(v) for v in values]

    def check():
        for value, kept in zip(values, copies):
            assert _same(kept, value), "an input was modified in place"

    return check


def _readable_windows(X):
    """What training may be given: numbers, 2-D or 3-D, no infinities, NaN only as padding."""
    values = np.asarray(X, dtype=np.float64) if not isinstance(X, list) else None
    if values is None:  # a list of sequences: padded on acceptance
        return all(np.isfinite(np.asarray(s, dtype=np.float64)).all() for s in X)
    if values.ndim == 2:
        values = values[:, :, None]
    assert values.ndim == 3 and min(values.shape) >= 1, values.shape
    assert not np.isinf(values).any()
    padding = np.isnan(values).all(axis=2)
    assert not (np.isnan(values).any(axis=2) & ~padding).any(), "NaN inside a step"
    assert not (padding[:, :-1] & ~padding[:, 1:]).any(), "data after padding"
    assert not padding[:, 0].any(), "an empty window"
    return True


# -- strategies ---------------------------------------------------------------

SMALL = st.integers(0, 4)
NUMERIC = st.sampled_from([np.float64, np.float32, np.float16, np.int8, np.int64, np.uint8,
                           np.bool_])
ODD = st.sampled_from(["U3", "S2", "M8[D]", "m8[s]", np.complex128])


@st.composite
def arrays(draw, shapes=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)):
    """Arrays of any small shape and dtype, NaN and infinities where floats allow them."""
    shape = draw(shapes)
    dtype = draw(st.one_of(NUMERIC, NUMERIC, ODD))
    if np.dtype(dtype).kind == "f":
        elements = st.one_of(
            st.floats(-10, 10, width=16),
            st.sampled_from([np.nan, np.inf, -np.inf]) if draw(st.booleans()) else st.nothing(),
        )
        return draw(hnp.arrays(dtype, shape, elements=elements))
    if np.dtype(dtype).kind in "Mm":
        return draw(hnp.arrays(dtype, shape, elements=st.integers(0, 10**6).map(
            lambda v: np.array(v).astype(dtype))))
    return draw(hnp.arrays(dtype, shape))


@st.composite
def object_arrays(draw):
    """Object arrays of numbers, with a stray string, None or NaN now and then."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    values = st.one_of(st.floats(-5, 5), st.integers(-5, 5),
                       st.sampled_from(["1.5", "x", b"2", None, np.nan, True]))
    flat = draw(st.lists(values, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(shape)


@st.composite
def ragged(draw):
    """Lists of sequences of mixed lengths, ranks and channels (some not numbers)."""
    channels = draw(st.integers(1, 3))
    sequences = []
    for _ in range(draw(st.integers(0, 5))):
        length = draw(st.integers(0, 5))
        rank = draw(st.sampled_from([1, 2, 2, 2, 3]))
        shape = {1: (length,), 2: (length, draw(st.sampled_from([channels, channels, 1, 4]))),
                 3: (length, 1, 1)}[rank]
        seq = draw(hnp.arrays(np.float64, shape, elements=st.one_of(
            st.floats(-3, 3), st.just(np.nan) if draw(st.booleans()) else st.nothing())))
        if draw(st.integers(0, 9)) == 0:
            seq = seq.astype(str)
        sequences.append(seq if draw(st.booleans()) else seq.tolist())
    return sequences


@st.composite
def frames(draw):
    """DataFrames of windows-as-rows with odd column names, dtypes and indexes."""
    n, m = draw(st.integers(0, 5)), draw(st.integers(0, 5))
    names = draw(st.lists(st.one_of(st.text(max_size=3), st.integers(-2, 5), st.just(None)),
                          min_size=m, max_size=m))
    data = {}
    frame = pd.DataFrame(index=range(n))
    for k, name in enumerate(names):
        kind = draw(st.sampled_from(["float", "float", "int", "bool", "object", "category",
                                     "date", "nan"]))
        column = draw(hnp.arrays(np.float64, n, elements=st.floats(-3, 3)))
        column = {
            "float": column, "int": column.astype(np.int64), "bool": column > 0,
            "object": pd.Series(column, dtype=object).where(column > 1, "s"),
            "category": pd.Categorical(column.astype(np.int64)),
            "date": pd.date_range("2020", periods=n, freq="D"),
            "nan": np.full(n, np.nan),
        }[kind]
        data[k] = column
    frame = pd.DataFrame(data, index=range(n))
    frame.columns = names if len(set(map(repr, names))) == m or draw(st.booleans()) else range(m)
    index = draw(st.sampled_from(["range", "reversed", "dates", "strings", "multi"]))
    if index == "reversed":
        frame.index = frame.index[::-1]
    elif index == "dates":
        frame.index = pd.date_range("2021", periods=n, freq="h")
    elif index == "strings":
        frame.index = [f"r{i % 2}" for i in range(n)]
    elif index == "multi" and n:
        frame.index = pd.MultiIndex.from_arrays([range(n), range(n)])
    return frame


def _n_rows(X):
    try:
        return len(X)
    except TypeError:
        return 3


# -- fit: X, y, sample weights, covariates -------------------------------------


@fuzz(250)
@given(X=st.one_of(arrays(), object_arrays(), ragged(), frames()))
def test_fit_refuses_bad_windows_or_reads_them(X):
    CASES["fit X"] += 1
    y = np.zeros(_n_rows(X))
    unchanged = _unchanged(X, y)
    outcome = _outcome(lambda: _CheckedRegressor(**FUZZ).fit(X, y), "X")
    unchanged()
    if isinstance(outcome, _Accepted):
        assert _readable_windows(X)


def _shaped(n, shapes, low=-5, high=5):
    """Float arrays of ``n`` rows, of the trailing shapes given, now and then with NaN or inf."""
    return st.sampled_from(shapes).flatmap(lambda tail: hnp.arrays(
        np.float64, (n,) + tail,
        elements=st.one_of(st.floats(low, high), st.sampled_from([np.nan, np.inf, -1.0]))
        if tail != () or n % 2 else st.floats(low, high)))


@fuzz(150)
@given(n=st.integers(1, 5), data=st.data())
def test_fit_refuses_bad_targets_or_reads_them(n, data):
    CASES["fit y"] += 1
    y = data.draw(st.one_of(arrays(), object_arrays(), ragged(),
                            _shaped(n, [(), (2,), (2, 1), (1, 1, 1)])))
    X = np.random.default_rng(0).normal(size=(n, 3, 2))
    unchanged = _unchanged(X, y)
    outcome = _outcome(lambda: _CheckedRegressor(**FUZZ).fit(X, y), "y")
    unchanged()
    if isinstance(outcome, _Accepted):
        values = np.asarray(y, dtype=np.float64)
        assert 1 <= values.ndim <= 3 and len(values) == n and np.isfinite(values).all()


@fuzz(150)
@given(n=st.integers(1, 5), data=st.data())
def test_fit_refuses_bad_sample_weights_or_reads_them(n, data):
    CASES["fit sample_weight"] += 1
    weights = data.draw(st.one_of(arrays(), object_arrays(), st.lists(st.floats(), max_size=5),
                                  st.floats(), _shaped(n, [(), ()], low=0)))
    X = np.random.default_rng(0).normal(size=(n, 3, 2))
    y = np.zeros(n)
    unchanged = _unchanged(X, y, weights)
    outcome = _outcome(
        lambda: _CheckedRegressor(**FUZZ).fit(X, y, sample_weight=weights), "sample_weight"
    )
    unchanged()
    if isinstance(outcome, _Accepted):
        values = np.asarray(weights, dtype=np.float64)
        assert values.size in (1, n) and np.isfinite(values).all() and (values >= 0).all()


@fuzz(150)
@given(n=st.integers(1, 5), which=st.sampled_from(["static_covariates", "future_covariates"]),
       data=st.data())
def test_fit_refuses_covariates_of_wrong_shapes(n, which, data):
    CASES["fit covariates"] += 1
    covariate = data.draw(st.one_of(arrays(), object_arrays(),
                                    _shaped(n, [(), (2,), (1, 1), (3, 2), (2, 2, 2)])))
    X = np.random.default_rng(0).normal(size=(n, 3, 2))
    y = np.zeros(n)
    unchanged = _unchanged(X, y, covariate)
    outcome = _outcome(lambda: _CheckedRegressor(**FUZZ).fit(X, y, **{which: covariate}), which)
    unchanged()
    if isinstance(outcome, _Accepted):
        values = np.asarray(covariate, dtype=np.float64)
        assert len(values) == n and np.isfinite(values).all()
        assert values.ndim in ((1, 2) if which == "static_covariates" else (2, 3))


_DATES = np.zeros((3, 4, 2)).astype("M8[D]")


@pytest.mark.parametrize("argument, X, y, kwargs", [
    # Accepted silently before: timestamps read as numbers, None as a NaN target, NaN or
    # strings as weights.
    ("X", _DATES, np.zeros(3), {}),
    ("X", _DATES.astype("m8[s]"), np.zeros(3), {}),
    ("y", np.zeros((3, 4, 2)), np.array([0.0, None, 1.0], dtype=object), {}),
    ("sample_weight", np.zeros((3, 4, 2)), np.zeros(3), {"sample_weight": np.nan}),
    ("sample_weight", np.zeros((3, 4, 2)), np.zeros(3), {"sample_weight": ["1", "2", "3"]}),
    # Refused before, by messages that named no argument.
    ("X", np.zeros((3, 4, 2), dtype=complex), np.zeros(3), {}),
    ("X", pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": pd.date_range("2020", periods=3)}),
     np.zeros(3), {}),
    ("X", np.array(0.0), np.zeros(1), {}),
    ("X", np.zeros((0, 4)), np.zeros(0), {}),
    ("X", np.zeros((3, 0)), np.zeros(3), {}),
    ("y", np.zeros((3, 4, 2)), np.zeros(2), {}),
    ("y", np.zeros((3, 4, 2)), [[1.0], [1.0, 2.0], [3.0]], {}),
    ("sample_weight", np.zeros((3, 4, 2)), np.zeros(3), {"sample_weight": np.zeros(3)}),
    ("static_covariates", np.zeros((3, 4, 2)), np.zeros(3),
     {"static_covariates": np.zeros((3, 1, 1))}),
    ("future_covariates", np.zeros((3, 4, 2)), np.zeros(3), {"future_covariates": np.zeros(3)}),
])
def test_the_defects_the_fuzzing_found_stay_fixed(argument, X, y, kwargs):
    assert _outcome(lambda: _CheckedRegressor(**FUZZ).fit(X, y, **kwargs), argument) == "refused"


# -- predict on one fitted estimator ------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    X, y = sine_windows(n_samples=24, timesteps=4, n_channels=2)
    return LSTMSAERegressor(**FUZZ).fit(X, y)


@fuzz(200)
@given(X=st.one_of(arrays(), object_arrays(), ragged(), frames(), arrays(
    hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=4).map(
        lambda s: (s[0], 4, 2)))))
def test_predict_refuses_bad_windows_or_forecasts_them(fitted, X):
    CASES["predict X"] += 1
    unchanged = _unchanged(X)
    outcome = _outcome(lambda: fitted.predict(X), "X")
    unchanged()
    if not isinstance(outcome, str):
        assert outcome.shape == (len(X),) and np.isfinite(outcome).all()


@fuzz(50)
@given(covariate=st.one_of(arrays(), object_arrays()),
       which=st.sampled_from(["static_covariates", "future_covariates"]))
def test_predict_refuses_covariates_it_was_not_fitted_with(fitted, covariate, which):
    CASES["predict covariates"] += 1
    X = sine_windows(n_samples=3, timesteps=4, n_channels=2)[0]
    unchanged = _unchanged(covariate)
    assert _outcome(lambda: fitted.predict(X, **{which: covariate}), which) == "refused"
    unchanged()


# -- tables: the main job's reader and TableForecaster ------------------------

# Mostly what the job reads (commas, UTF-8), some of what it refuses.
SEPARATORS = [",", ",", ",", ";", "\t", "|"]
ENCODINGS = ["utf-8", "utf-8", "utf-8", "latin-1", "utf-16", "utf-8-sig"]
COLUMN_NAMES = st.text(alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"],
                                              exclude_characters='"'), min_size=1, max_size=4)


@st.composite
def tables(draw, names=st.lists(COLUMN_NAMES, min_size=1, max_size=3, unique=True)):
    """A table as a CSV's rows: a date column (in order or not) and a few value columns."""
    n = draw(st.one_of(st.integers(0, 4), st.integers(5, 30)))
    names = draw(names)
    start = pd.Timestamp("2022-03-01")
    regular = draw(st.integers(0, 2)) > 0  # steps of one hour, or with gaps, repeats, reversals
    step = st.just(1) if regular else st.sampled_from([1, 1, 1, 1, 2, 0, -1])
    steps = draw(st.lists(step, min_size=n, max_size=n))
    times = start + pd.to_timedelta(np.cumsum(steps), unit="h")
    columns = {"time": [t.isoformat() for t in times]}
    for name in names:
        values = draw(st.lists(st.floats(-100, 100, allow_nan=False), min_size=n, max_size=n))
        column = [repr(round(v, 3)) for v in values]
        if n and draw(st.integers(0, 5)) == 0:  # a stray string, or an empty cell
            column[draw(st.integers(0, n - 1))] = draw(st.sampled_from(["x", "", "1,5", "NaN",
                                                                       "inf", "é"]))
        columns[name] = column
    if draw(st.booleans()):  # the time column last, or missing
        columns["time"] = columns.pop("time") if draw(st.booleans()) else None
        columns = {k: v for k, v in columns.items() if v is not None}
    return columns


def _csv(columns, sep, encoding):
    names = list(columns)
    rows = [sep.join(f'"{c}"' if sep in c else c for c in names)]
    for values in zip(*columns.values()):
        rows.append(sep.join(f'"{v}"' if sep in v else v for v in values))
    return ("\n".join(rows) + "\n").encode(encoding, errors="replace")


def _ordered_numbers(table):
    assert table.index.is_unique and table.index.is_monotonic_increasing
    assert all(pd.api.types.is_float_dtype(dtype) for dtype in table.dtypes)


@fuzz(200)
@given(columns=tables(), sep=st.sampled_from(SEPARATORS), encoding=st.sampled_from(ENCODINGS),
       timesteps=st.integers(1, 3), horizon=st.integers(1, 2))
def test_the_main_job_reads_a_csv_or_names_what_is_wrong(tmp_path_factory, columns, sep,
                                                         encoding, timesteps, horizon):
    CASES["main job CSV"] += 1
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    content = _csv(columns, sep, encoding)
    path.write_bytes(content)
    args = build_parser().parse_args(["--data", str(path), "--timesteps", str(timesteps),
                                      "--horizon", str(horizon), "--test-fraction", "0.3"])
    try:
        data = _job.prepare(*_job.read_data(args), args)
    except (ValueError, TypeError) as error:
        OUTCOMES["CSV", "refused"] += 1
        assert str(error), "an error without a message"
    else:
        OUTCOMES["CSV", "accepted"] += 1
        _ordered_numbers(data.train)
        assert data.train_windows >= 2 and data.test_windows >= 1
        assert np.isfinite(data.y_test).all()
    assert path.read_bytes() == content


@st.composite
def frames_of_tables(draw, names=st.lists(COLUMN_NAMES, min_size=1, max_size=3, unique=True)):
    columns = draw(tables(names))
    frame = pd.DataFrame(columns)
    for name in frame.columns:
        if name != "time" and draw(st.booleans()):  # some columns read as numbers
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    if "time" in frame.columns and draw(st.booleans()):
        frame = frame.set_index(pd.DatetimeIndex(frame.pop("time")))
    return frame


@fuzz(150)
@given(frame=frames_of_tables(), timesteps=st.integers(1, 3), sort_time=st.booleans())
def test_table_forecaster_reads_a_frame_or_names_what_is_wrong(frame, timesteps, sort_time):
    CASES["TableForecaster.fit"] += 1
    unchanged = _unchanged(frame)
    forecaster = TableForecaster(timesteps=timesteps, sort_time=sort_time,
                                 regressor=_CheckedWindowsRegressor())
    try:
        forecaster.fit(frame)
    except _Accepted as accepted:
        OUTCOMES["frame", "accepted"] += 1
        X, y = accepted.args
        assert np.isfinite(X).all() and np.isfinite(y).all() and len(X) == len(y) >= 1
        assert X.shape[1:] == (timesteps, len(forecaster.columns_))
    except (ValueError, TypeError) as error:
        OUTCOMES["frame", "refused"] += 1
        assert str(error), "an error without a message"
    unchanged()


@pytest.fixture(scope="module")
def fitted_table():
    times = pd.date_range("2022-03-01", periods=30, freq="h")
    values = np.sin(np.arange(30) / 3.0)
    frame = pd.DataFrame({"time": times, "a": values, "b": np.cos(np.arange(30) / 5.0)})
    return TableForecaster("a", timesteps=3, regressor=LSTMSAERegressor(**FUZZ)).fit(frame)


@fuzz(100)
@given(frame=frames_of_tables(st.one_of(
    st.just(["a", "b"]), st.just(["b", "a", "c"]),
    st.lists(st.sampled_from(["a", "b", "c"]) | COLUMN_NAMES, min_size=1, max_size=3,
             unique=True))))
def test_a_fitted_table_forecaster_forecasts_a_frame_or_names_what_is_wrong(fitted_table, frame):
    CASES["TableForecaster.predict"] += 1
    unchanged = _unchanged(frame)
    try:
        forecasts = fitted_table.predict(frame)
    except (ValueError, TypeError) as error:
        OUTCOMES["predict frame", "refused"] += 1
        assert str(error), "an error without a message"
    else:
        OUTCOMES["predict frame", "handled"] += 1
        assert list(forecasts.columns) == ["a+1"] and np.isfinite(forecasts.to_numpy()).all()
        assert len(forecasts) == len(frame) - 3 + 1
    unchanged()


def test_the_fuzz_asks_for_at_least_1000_cases():
    """Each fuzz test checks its own count (``_every_case_ran``), wherever xdist runs it."""
    asked = {name: value.cases_asked for name, value in globals().items()
             if name.startswith("test_") and hasattr(value, "cases_asked")}
    assert len(asked) == len([name for name, value in globals().items()
                              if name.startswith("test_") and hasattr(value, "hypothesis")])
    assert sum(asked.values()) >= 1000, asked
    if CASES:
        print(f"\n{sum(CASES.values())} cases generated in this process: {dict(CASES)}; "
              f"outcomes {dict(OUTCOMES)}")
