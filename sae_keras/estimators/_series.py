"""Many series, one network: the series of each window (``series=``) and what the
estimators learn per series (the standardisation of its inputs and targets)."""

from __future__ import annotations

import numpy as np

from ..data._split import series_split
from ..data._validation import named_errors


class _PerSeries:
    """Mixin of the network estimators: ``series`` checked, coded, split and scaled by."""

    def _check_series(self, series, n, name="series"):
        """``series`` as an array of one id per window (or ``None``), checked before training."""
        if series is None:
            return None
        with named_errors(name):
            ids = np.asarray(series)
        if ids.ndim != 1 or len(ids) != n:
            raise ValueError(
                f"{name} must hold one series id per window: an array of shape ({n},); got "
                f"shape {ids.shape}."
            )
        if ids.dtype.kind == "f" and np.isnan(ids).any() or (
            ids.dtype.kind == "O" and any(i is None or i != i for i in ids.tolist())
        ):
            raise ValueError(f"{name} holds a missing id (None or NaN): every window needs one.")
        if ids.dtype.kind not in "iuUSO" and not (ids.dtype.kind == "f" and len(ids) == 0):
            raise TypeError(
                f"{name} must hold integers or strings (one id per series); got values of "
                f"dtype {ids.dtype}."
            )
        return ids

    def _check_unlabeled_series(self, series, unlabeled_series, X_unlabeled, warm=False):
        """The series of the unlabeled windows (``None`` without ``series``), checked."""
        if series is None:
            if unlabeled_series is not None:
                raise ValueError("unlabeled_series is read only with series= (the series "
                                 "of the labeled windows); pass both, or neither.")
            return None
        if warm or getattr(self, "calibration_fraction", 0):
            what = "warm_start=True" if warm else "calibration_fraction > 0"
            raise ValueError(f"{what} does not take series= yet: fit without one of them.")
        if X_unlabeled is None:  # none given, or ignored (with a warning)
            return None
        if unlabeled_series is None:
            raise ValueError(
                "X_unlabeled with series= needs unlabeled_series=, the series of each "
                "unlabeled window (their windows join their series' statistics)."
            )
        return self._check_series(unlabeled_series, len(X_unlabeled), "unlabeled_series")

    def _fit_series(self, series, unlabeled=None):
        """Learn the series ids (``series_``); return the codes of ``series`` and ``unlabeled``."""
        every = series if unlabeled is None else np.concatenate([unlabeled, series])
        try:
            self.series_, codes = np.unique(every, return_inverse=True)
        except TypeError:  # mixed types (int and str ids): compared as text
            self.series_, codes = np.unique(every.astype(str), return_inverse=True)
        codes = codes.reshape(-1)
        if unlabeled is None:
            return codes, None
        return codes[len(unlabeled):], codes[: len(unlabeled)]

    def _series_codes(self, series, n):
        """The codes of the series of ``n`` windows at predict time; refuses what ``fit`` did not see."""
        fitted = getattr(self, "series_", None)
        if fitted is None:
            if series is not None:
                raise ValueError(
                    f"series was given, but this {type(self).__name__} was fitted without "
                    "series (one standardisation for every window); predict without it, or "
                    "fit with series= to learn each series' own."
                )
            return None
        if series is None:
            raise ValueError(
                f"this {type(self).__name__} was fitted with series= (each series "
                "standardised by its own statistics): pass the series of each window, "
                "series=[...], one id per window."
            )
        ids = self._check_series(series, n)
        if fitted.dtype.kind in "US" and ids.dtype.kind not in "US":
            ids = ids.astype(str)
        codes = np.searchsorted(fitted, ids)
        codes = np.clip(codes, 0, len(fitted) - 1)
        unseen = ids != fitted[codes]
        if unseen.any():
            names = sorted({str(i) for i in ids[unseen]})
            raise ValueError(
                f"series {names[:10]}{' ...' if len(names) > 10 else ''} were not seen in fit: "
                "each series is standardised by the statistics of its own training windows, "
                "which these have none of. Refit with windows of these series (or pass them "
                "as X_unlabeled with unlabeled_series at fit), or fit without series= for "
                "one standardisation of every window."
            )
        return codes

    def _series_held_out_last(self, codes, gap, *arrays):
        """The windows reordered so that each series' last ones, early stopping's, come last.

        Returns ``(reordered arrays, codes, n_held)``; the ``gap`` windows before
        each series' held-out part are dropped (in neither part).
        """
        train, held = series_split(codes, self.validation_fraction, gap,
                                   name="validation_fraction")
        order = np.concatenate([train, held])
        reordered = [None if a is None else a[order] for a in arrays]
        return reordered, codes[order], len(held)

    @staticmethod
    def _refuse_with_series(series, what):
        if series is not None:
            raise ValueError(f"{what} does not take series= yet: per-series statistics "
                             "are not built into it.")
