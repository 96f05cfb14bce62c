"""Few labels, much history: pretraining on unlabeled windows (``X_unlabeled``).

Shows ``LSTMSAERegressor.fit(X, y, X_unlabeled=...)`` on the bundled Beijing
PM2.5 data when only the most recent ``--labeled`` share (5%) of the training
windows has a target: the one-hour-ahead change of PM2.5. The same regressor
(its defaults) is pretrained either on the labeled windows alone or on them and
the other 95% of the training period, unlabeled; both fine-tune on the labeled
windows only. Ridge on the labeled windows and persistence are printed beside
them. Test: the last 20% of the windows. Mean and spread over ``--seeds``
seeds. Run ``python examples/unlabeled_pretraining.py --quick`` for a short
version.
"""

import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV

from sae_keras import LSTMSAEEncoder, LSTMSAERegressor, make_windows
from sae_keras.data.datasets import load_beijing_pm25
from sae_keras.evaluation.metrics import rmse

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
parser.add_argument("--quick", action="store_true", help="less data, one seed, few epochs")
parser.add_argument("--labeled", type=float, default=0.05, help="share of training windows with a target")
parser.add_argument("--seeds", type=int, default=3, help="random states per model")
parser.add_argument("--output", default="unlabeled_pretraining.json", help="where to save the results")
args = parser.parse_args()

frame = load_beijing_pm25()
frame["wnd_dir"] = pd.Categorical(frame["wnd_dir"]).codes
frame = frame.iloc[-8000:] if args.quick else frame
X, y = make_windows(frame, timesteps=24, horizon=1, target="pollution")
last_hour = X[:, -1, 0]  # pollution is channel 0
change = y - last_hour
split = int(0.8 * len(X))
n_labeled = max(20, int(args.labeled * split))
labeled = slice(split - n_labeled, split)  # the most recent training windows
unlabeled = slice(0, split - n_labeled)
test = slice(split, None)
truth, persistence = y[test], last_hour[test]

settings = dict(hidden_units=(16,), pretraining=LSTMSAEEncoder(pretrain_epochs=2),
                epochs=5) if args.quick else {}
seeds = range(1 if args.quick else args.seeds)
scores = {"pretrained on labeled only": [], "pretrained with unlabeled": []}
seconds = {name: [] for name in scores}
for seed in seeds:
    for name, extra in (("pretrained on labeled only", {}),
                        ("pretrained with unlabeled", {"X_unlabeled": X[unlabeled]})):
        started = time.perf_counter()
        model = LSTMSAERegressor(random_state=seed, **settings)
        model.fit(X[labeled], change[labeled], **extra)
        seconds[name].append(time.perf_counter() - started)
        scores[name].append(rmse(truth, model.predict(X[test]) + persistence))

ridge = RidgeCV(alphas=np.logspace(-2, 6, 17)).fit(
    X[labeled].reshape(n_labeled, -1), change[labeled]
)
ridge_rmse = rmse(truth, ridge.predict(X[test].reshape(len(truth), -1)) + persistence)
rows = [("persistence", rmse(truth, persistence), 0.0, None),
        ("Ridge on labeled", ridge_rmse, 0.0, None)]
rows += [(name, float(np.mean(v)), float(np.std(v)), float(np.mean(seconds[name])))
         for name, v in scores.items()]

print(f"{n_labeled} labeled windows ({n_labeled / split:.1%} of {split}), "
      f"{split - n_labeled} unlabeled, {len(truth)} test windows; "
      f"{len(seeds)} seed(s); target: next-hour PM2.5 (change from the last hour)")
print(f"{'model':<28} {'RMSE':>8} {'± sd':>6} {'skill':>8} {'fit s':>7}")
for name, mean, sd, fit_s in rows:
    skill = 1 - mean / rows[0][1]
    print(f"{name:<28} {mean:8.3f} {sd:6.3f} {skill:+8.1%} "
          f"{'' if fit_s is None else f'{fit_s:7.1f}'}")
gain = 1 - rows[3][1] / rows[2][1]
print(f"unlabeled windows change the LSTM-SAE's test RMSE by {-gain:+.1%} "
      f"({'better' if gain > 0 else 'worse'})")
with open(args.output, "w") as handle:
    json.dump({"n_labeled": n_labeled, "n_unlabeled": split - n_labeled,
               "n_test": len(truth), "seeds": len(seeds), "quick": args.quick,
               "rmse": {name: mean for name, mean, _, _ in rows},
               "rmse_sd": {name: sd for name, _, sd, _ in rows},
               "skill_vs_persistence": {
                   name: 1 - mean / rows[0][1] for name, mean, _, _ in rows}},
              handle, indent=2)
print(f"saved {args.output}")
