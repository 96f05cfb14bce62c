"""What ``pretraining=`` means in the estimators that fine-tune a pretrained stack
(:class:`~sae_keras.LSTMSAERegressor`, :class:`~sae_keras.LSTMSAEClassifier`): a composed
:class:`~sae_keras.LSTMSAEEncoder` says how to pretrain, and pretraining goes through
its one path (:class:`~sae_keras.estimators._pretraining._Pretrains`)."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import FLOAT_DTYPES, check_array

from ._encoder import LSTMSAEEncoder
from ..data._validation import as_3d_windows, pad_sequences, reject_non_numeric, valid_steps
from ..forecasting._scaling import scale_windows
from ..nn.builders import PAD_VALUE, load_encoder_weights, n_patches, patch_windows

#: The network's shape and input scaling: always the composing estimator's (an
#: unfitted encoder takes them; a fitted one brings its own).
ARCHITECTURE = ("hidden_units", "cell", "activation", "scaling")

#: What ``pretraining="auto"`` also takes from the composing estimator: how each
#: phase trains.
TRAINING = ("optimizer", "learning_rate", "loss", "batch_size", "early_stopping",
            "validation_fraction", "n_iter_no_change", "tol")

#: ``patch_size="auto"`` joins steps into patches until the encoders read at most
#: this many: chosen on the archive problems' training parts
#: (``benchmarks/classification_selection.py``).
AUTO_PATCH_STEPS = 16


class _ComposesEncoder:
    """Mixin: resolve ``pretraining``, pretrain through the encoder, take a fitted one's stack."""

    def _composed_network(self):
        """``(encoder or None, whether it is fitted, hidden_units)``, checked before training."""
        encoder = self._pretraining_encoder()
        fitted_encoder = encoder is not None and hasattr(encoder, "model_")
        hidden_units = encoder.hidden_units_ if fitted_encoder else self._hidden_units()
        if self.pretraining is None and self.freeze_encoders:
            raise ValueError(
                "freeze_encoders=True needs pretrained encoders, but pretraining=None; "
                "set pretraining='auto' (or an LSTMSAEEncoder), or freeze_encoders=False."
            )
        return encoder, fitted_encoder, hidden_units

    def _pretraining_encoder(self):
        """The encoder that pretrains (or was pretrained), or ``None``; checked before training.

        ``"auto"``: an :class:`LSTMSAEEncoder` with this estimator's architecture
        and training settings. An unfitted ``LSTMSAEEncoder``: a copy, given this
        estimator's architecture. A fitted one (also inside a ``FrozenEstimator``,
        which must hold a fitted one): itself, used as it is.
        """
        pretraining = self.pretraining
        if pretraining is None:
            return None
        own = self.get_params(deep=False)
        if isinstance(pretraining, str):  # "auto", the only string the constraints let through
            encoder = LSTMSAEEncoder(**{name: own[name] for name in ARCHITECTURE + TRAINING
                                        if name in own})
        else:
            frozen = isinstance(pretraining, FrozenEstimator)
            encoder = pretraining.estimator if frozen else pretraining
            if not isinstance(encoder, LSTMSAEEncoder):
                raise TypeError(
                    "pretraining must be 'auto', None, an LSTMSAEEncoder or a "
                    "FrozenEstimator of a fitted LSTMSAEEncoder; got "
                    f"{'a FrozenEstimator of ' if frozen else ''}a {type(encoder).__name__}."
                )
            if frozen and not hasattr(encoder, "model_"):
                raise ValueError(
                    "pretraining=FrozenEstimator(encoder) needs a fitted LSTMSAEEncoder (a "
                    "frozen one is never fitted here); fit the encoder first, or pass the "
                    "LSTMSAEEncoder itself to have a copy of it pretrained on X."
                )
            encoder._validate_params()
            if hasattr(encoder, "model_"):
                return encoder
            _check_architecture(encoder, own)
            encoder = clone(encoder).set_params(**{name: own[name] for name in ARCHITECTURE})
        encoder._pretrain_epochs(len(encoder._hidden_units()))
        return encoder

    def _check_unlabeled(self, X_unlabeled, X, encoder, warm=False):
        """``X_unlabeled`` as float windows like ``X``, or ``None`` (also when unused)."""
        if X_unlabeled is None:
            return None
        X_unlabeled = pad_sequences(X_unlabeled, X.shape[1])
        reject_non_numeric(X_unlabeled, "X_unlabeled")
        windows = as_3d_windows(
            check_array(X_unlabeled, allow_nd=True, dtype=FLOAT_DTYPES,
                        input_name="X_unlabeled", ensure_all_finite="allow-nan")
        )
        valid_steps(windows, "X_unlabeled")  # NaN only as right padding
        if windows.shape[1:] != X.shape[1:]:
            raise ValueError(
                "X_unlabeled must hold windows shaped like X's (timesteps="
                f"{X.shape[1]}, channels={X.shape[2]}); got windows of shape "
                f"(timesteps={windows.shape[1]}, channels={windows.shape[2]})."
            )
        unused = (
            "pretraining=None" if self.pretraining is None
            else "warm_start continues fine-tuning" if warm
            else "pretraining is an already fitted encoder"
            if encoder is not None and hasattr(encoder, "model_") else None
        )
        if unused is not None:
            warnings.warn(f"X_unlabeled is ignored: {unused}, nothing is pretrained.",
                          UserWarning, stacklevel=3)
            return None
        return windows

    def _prepare_stack(self, encoder, X, X_pretrain, sample_weight, steps, settings, padded,
                       codes=None, pretrain_codes=None):
        """The input scaling, then the stack's pretrained weights: how the network starts.

        Within this estimator's fit and strategy. ``X``: the windows the network
        trains on; ``X_pretrain``: those pretraining reads (``X_unlabeled``, then
        ``X``), weighted ``sample_weight``. Returns ``(X as the network reads it,
        encoder weights per layer or None, {"pretrain_k": curves}, padded, the
        estimator whose cell and activation the network has)``. ``codes`` and
        ``pretrain_codes``: the series of the windows of ``X`` and ``X_pretrain``
        (``series=``), each standardised by its own statistics.
        """
        if encoder is not None and hasattr(encoder, "model_"):
            if codes is not None or getattr(encoder, "series_", None) is not None:
                raise ValueError(
                    "a fitted encoder supplies its own input scaling, which cannot be mixed "
                    "with scaling per series: fit without series=, or pass an unfitted "
                    "LSTMSAEEncoder as pretraining to pretrain on these series."
                )
            weights = self._fitted_stack(encoder)
            padded = padded or encoder.variable_length_
            return self._scale_inputs(X, padded), weights, {}, padded, encoder
        X_model = self._fit_input_scaling(X, stats_on=X_pretrain, padded=padded, codes=codes,
                                          stats_codes=pretrain_codes)
        if encoder is None:
            return X_model, None, {}, padded, self
        weights, history = self._pretrain_stack(encoder, X_pretrain, sample_weight, steps,
                                                settings, padded, pretrain_codes)
        return X_model, weights, history, padded, self

    def _load_stack(self, model, weights):
        """Start ``model``'s encoders from ``weights`` (if any), frozen with ``freeze_encoders``."""
        if weights is None:
            return
        load_encoder_weights(model, weights)
        for index in range(1, len(weights) + 1):
            model.get_layer(f"encoder_{index}").trainable = not self.freeze_encoders

    def _pretrain_stack(self, encoder, X, sample_weight, steps, settings, padded, codes=None):
        """Pretrain ``encoder``'s stack on windows ``X`` (raw, as ``fit`` took them).

        Call after the input scaling is learned; within this estimator's fit
        (its seed, checkpoint, callbacks, strategy). Returns ``(encoder weights
        per layer, {"pretrain_k": curves})``.
        """
        encoder._check_validation_split(encoder._n_strided(len(X)))
        X_stack, steps = self._stack_input(self._scale_inputs(X, padded, codes), steps)
        stack = encoder._pretrain(
            X_stack, self._hidden_units(), encoder._settings_within(settings, len(X)),
            sample_weight, steps,
        )
        return stack.encoder_weights, dict(stack.history)

    def _resolve_patch_size(self, timesteps, fitted_encoder):
        """``patch_size`` as an int; a fitted encoder read windows step by step."""
        if self.patch_size == "auto":
            # The smallest size leaving at most AUTO_PATCH_STEPS patches.
            return 1 if fitted_encoder else n_patches(timesteps, AUTO_PATCH_STEPS)
        if fitted_encoder and self.patch_size > 1:
            raise ValueError(
                f"patch_size={self.patch_size} needs the encoders pretrained on patches, "
                "but pretraining is a fitted LSTMSAEEncoder, which read the windows step "
                "by step: use patch_size=1 (or 'auto'), or pass an unfitted encoder."
            )
        return int(self.patch_size)

    def _check_pretraining_objective(self, encoder, timesteps, padded):
        """Refuse, before training, an objective ``encoder`` cannot train on the patches.

        Its ``prediction_steps`` count what the stack reads: ``patch_size_`` steps each.
        """
        encoder._check_objective(n_patches(timesteps, self.patch_size_), padded,
                                 "patches" if self.patch_size_ > 1 else "steps")

    def _stack_input(self, X, steps):
        """Scaled windows, and their valid steps, as the stack's first encoder reads them.

        Behind ``patches`` (``patch_size_`` steps as one), as pretraining must
        read them to start the network's encoders.
        """
        patches, steps = patch_windows(X, self.patch_size_, steps)
        if steps is None or self.patch_size_ == 1:
            return patches, steps
        # Padded patches as pretraining reads padding: NaN, filled lazily (and as
        # 0 in its reconstruction targets, weighted 0).
        patches = np.where(steps[..., np.newaxis], patches, np.float32(np.nan))
        return scale_windows(patches, None, None, fill=PAD_VALUE), steps

    def _fitted_stack(self, encoder):
        """A fitted encoder's stack: its input scaling (now this estimator's) and weights."""
        self.input_mean_, self.input_scale_ = encoder.input_mean_, encoder.input_scale_
        return [encoder.model_.get_layer(f"encoder_{k}").get_weights()
                for k in range(1, len(encoder.hidden_units_) + 1)]


def _with_unlabeled(X, sample_weight, X_unlabeled):
    """Windows and weights for pretraining: ``X_unlabeled`` (weight 1) first, then ``X``."""
    if X_unlabeled is None:
        return X, sample_weight
    weights = None
    if sample_weight is not None:
        weights = np.concatenate([np.ones(len(X_unlabeled)), sample_weight])
    return np.concatenate([X_unlabeled, X]), weights


def _check_encoder_windows(encoder, X):
    fitted = (encoder.timesteps_, encoder.n_channels_in_)
    if X.shape[1:] != fitted:
        raise ValueError(
            f"pretraining is an LSTMSAEEncoder fitted on windows of shape "
            f"(timesteps={fitted[0]}, channels={fitted[1]}), but X has windows of shape "
            f"(timesteps={X.shape[1]}, channels={X.shape[2]})."
        )


def _check_architecture(encoder, own):
    """Refuse an encoder set to another network than the composing estimator's."""
    defaults = LSTMSAEEncoder().get_params(deep=False)
    for name in ARCHITECTURE:
        mine, theirs = own[name], encoder.get_params(deep=False)[name]
        if _same(theirs, defaults[name]) or _same(theirs, mine):
            continue
        raise ValueError(
            f"pretraining=LSTMSAEEncoder({name}={theirs!r}) differs from this estimator's "
            f"{name}={mine!r}: the encoders pretrained are those of the network fine-tuned, "
            f"so its hidden_units, cell, activation and scaling are this estimator's. Set "
            f"{name}={theirs!r} here (and leave the encoder's at its default)."
        )


def _same(a, b):
    """Parameter values equal; ``hidden_units`` compared as layer sizes (``8 == (8,) == [8]``)."""
    return _normal(a) == _normal(b)


def _normal(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Integral):
        return (int(value),)
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(np.ravel(np.asarray(value, dtype=object)).tolist())
    return value
