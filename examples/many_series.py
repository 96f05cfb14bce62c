"""Many related series, one model: a long table of six stores in, forecasts per store out.

Shows ``TableForecaster(id_column="store")`` on a long table (one row per store
and day: ``store, date, sales``) of six synthetic stores whose daily sales share
a weekly pattern at levels from 20 to 20,000 units, two trending up, two down.
One ``LSTMSAERegressor`` (its defaults) is fitted over the windows of every store,
each store standardised by its own statistics; its next-day forecasts for the
last 20% of each store's days are scored, store by store, beside the same
weekday a week before (seasonal naive) and one ``RidgeCV`` per store on the same
windows. Errors are MASE: the mean absolute error over that of seasonal naive on
the store's training days, so stores of any level compare. Run
``python examples/many_series.py --quick`` for a short version.
"""

import argparse
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, TableForecaster

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--quick", action="store_true", help="one year, a small network, few epochs")
args = parser.parse_args()

# -- the long table: one row per store and day ----------------------------------------
n_days, timesteps = (365, 14) if args.quick else (730, 14)
rng = np.random.default_rng(0)
days = pd.date_range("2023-01-02", periods=n_days, freq="D")
weekly = np.array([0.9, 0.85, 0.9, 1.0, 1.15, 1.35, 1.25])  # Monday .. Sunday
parts = []
for k, level in enumerate(np.geomspace(20, 20_000, 6)):
    drift = (k % 3 - 1) * 0.4 * np.arange(n_days) / n_days  # down, flat, up, ...
    noise = np.zeros(n_days)
    for t in range(1, n_days):  # AR(1) noise: yesterday says something about today
        noise[t] = 0.7 * noise[t - 1] + rng.normal(0, 0.06)
    sales = level * (1 + drift) * weekly[days.dayofweek] * np.exp(noise)
    parts.append(pd.DataFrame({"store": f"store_{k + 1}", "date": days, "sales": sales}))
table = pd.concat(parts, ignore_index=True).sample(frac=1, random_state=0)  # any row order
test_start = days[int(0.8 * n_days)]
train = table[table["date"] < test_start]

# -- one LSTM-SAE for all stores, one Ridge per store ---------------------------------
settings = dict(hidden_units=(16,), pretraining=LSTMSAEEncoder(pretrain_epochs=1),
                epochs=5) if args.quick else {}
lstm = TableForecaster("sales", timesteps=timesteps, id_column="store", time_column="date",
                       sort_time=True, regressor=LSTMSAERegressor(random_state=0, **settings))
started = time.perf_counter()
lstm.fit(train)
seconds = time.perf_counter() - started


def flatten(windows):
    return windows.reshape(len(windows), -1)


def ridge_per_store(rows):
    ridge = make_pipeline(FunctionTransformer(flatten), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    return TableForecaster("sales", timesteps=timesteps, time_column="date", sort_time=True,
                           regressor=ridge).fit(rows.drop(columns="store"))


# -- next-day forecasts of the test days, scored per store ----------------------------
actual = table.set_index(["store", "date"])["sales"].sort_index()
one_day = pd.Timedelta(days=1)


def test_part(forecasts):
    """Forecasts whose target day is a test day, as a Series indexed by (store, day)."""
    values = forecasts["sales+1"].copy()
    stores, origins = values.index.get_level_values(0), values.index.get_level_values(1)
    values.index = pd.MultiIndex.from_arrays([stores, origins + one_day], names=["store", "date"])
    return values[(values.index.get_level_values(1) >= test_start)
                  & (values.index.get_level_values(1) <= days[-1])]


forecasts = lstm.predict(table)  # every complete window of every store
lstm_forecast = test_part(forecasts)
ridge_forecast = pd.concat([
    test_part(pd.concat({store: ridge_per_store(train[train["store"] == store])
                         .predict(store_rows.drop(columns="store"))}, names=["store"]))
    for store, store_rows in table.groupby("store")
])
truth = actual.loc[lstm_forecast.index]
naive = actual.reindex([(s, d - 7 * one_day) for s, d in truth.index]).to_numpy()

# Absolute errors of each model, aligned with ``truth``: scored per store below.
errors = {name: np.abs(forecast - truth.to_numpy())
          for name, forecast in [("seasonal naive", naive),
                                 ("Ridge per store", ridge_forecast.loc[truth.index].to_numpy()),
                                 ("LSTM-SAE (one for all)", lstm_forecast.to_numpy())]}
rows = []
for store in sorted(table["store"].unique()):
    sales = actual.loc[store]
    history = sales[sales.index < test_start].to_numpy()
    scale = np.mean(np.abs(history[7:] - history[:-7]))  # seasonal naive's in-sample error
    mine = truth.index.get_level_values(0) == store
    rows.append({"store": store, "level": history.mean(),
                 **{name: error[mine].mean() / scale for name, error in errors.items()}})
scores = pd.DataFrame(rows).set_index("store")
models = ["seasonal naive", "Ridge per store", "LSTM-SAE (one for all)"]
gmean = np.exp(np.log(scores[models]).mean())

print(f"{len(parts)} stores, {n_days} days each (levels 20 to 20,000), {timesteps}-day windows; "
      f"{len(truth)} test-day forecasts; the LSTM-SAE fitted in {seconds:.0f} s")
print("next-day MASE per store (lower is better):")
print(scores.to_string(float_format=lambda v: f"{v:.3f}"))
print("geometric mean " + "  ".join(f"{name}: {gmean[name]:.3f}" for name in models))
print(f"one LSTM-SAE for {len(parts)} stores: geometric-mean MASE {gmean[models[2]]:.3f} "
      f"against {gmean[models[1]]:.3f} for a Ridge per store and "
      f"{gmean[models[0]]:.3f} for seasonal naive")
print(f"the next day's forecast of each store, from its last {timesteps} days:")
print(forecasts.groupby(level="store").tail(1).round(1).to_string())

fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
for ax, store in zip(axes, ["store_1", "store_6"]):
    ax.plot(actual.loc[store].loc[test_start:], color="black", lw=1, label="actual")
    ax.plot(lstm_forecast.loc[store], label="LSTM-SAE (one for all)")
    ax.plot(ridge_forecast.loc[store], label="Ridge per store", alpha=0.7)
    ax.set_title(f"{store}: test days", fontsize=9)
axes[0].legend(fontsize=8)
fig.tight_layout()
