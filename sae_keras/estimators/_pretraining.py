"""Greedy pretraining as :class:`~sae_keras.LSTMSAEEncoder` does it, for its own ``fit``
and for the estimators that compose an encoder (the regressor, the classifier): one
pretraining path, reading the encoder's parameters."""

from __future__ import annotations

import dataclasses
import functools
from numbers import Integral

import numpy as np

from ..nn._inference import CompiledForward
from ..training._pretraining_cache import as_memory, cached_training
from ..training.pretraining import check_objective, greedy_pretrain


class _Pretrains:
    """Mixin of :class:`~sae_keras.LSTMSAEEncoder`: greedy pretraining from its parameters."""

    def _pretrain_epochs(self, n_layers):
        """``pretrain_epochs`` as one int per layer; refused before any training."""
        if isinstance(self.pretrain_epochs, Integral):
            return (int(self.pretrain_epochs),) * n_layers
        epochs = tuple(np.ravel(np.asarray(self.pretrain_epochs, dtype=object)))
        if len(epochs) != n_layers or not all(
            isinstance(e, Integral) and not isinstance(e, bool) and e >= 1 for e in epochs
        ):
            raise ValueError(
                "pretrain_epochs must be a positive int or one positive int per layer "
                f"({n_layers} for hidden_units={self.hidden_units!r}); "
                f"got {self.pretrain_epochs!r}."
            )
        return tuple(int(e) for e in epochs)

    def _check_objective(self, timesteps, padded=False, unit="steps"):
        """Refuse, before any training, an objective these windows cannot train."""
        check_objective(self.pretrain_objective, self.reconstruct, self.prediction_steps,
                        timesteps, padded=padded, unit=unit)

    def _pretrain(self, X, hidden_units, settings, sample_weight=None, steps=None):
        """Greedy pretraining of windows ``X`` as the models read them (scaled, padded).

        ``settings``: how each phase trains (this encoder's own, or those of the
        estimator that composes it: :meth:`_settings_within`); ``steps``: the
        valid steps of padded windows, or ``None``. Only every
        ``pretrain_stride``-th window trains (:meth:`_strided`).
        """
        X, sample_weight, steps, settings = self._strided(X, sample_weight, steps, settings)
        step_weight = None
        if steps is not None:
            step_weight = steps.astype(np.float32)
            if sample_weight is not None:
                step_weight *= np.asarray(sample_weight, dtype=np.float32)[:, np.newaxis]
        train = functools.partial(self._train, settings=settings, sample_weight=sample_weight)
        memory = as_memory(self.memory)
        if memory is not None:
            fixed = [self.optimizer, self.learning_rate, self.loss, sample_weight]
            train = cached_training(memory, train, settings, fixed)
        return greedy_pretrain(
            X,
            hidden_units,
            self._pretrain_epochs(len(hidden_units)),
            train,
            target=self.reconstruct,
            decoder_units=self.decoder_units,
            activation=self.activation,
            noise=self.pretrain_noise,
            reverse=self.reverse_reconstruction,
            objective=self.pretrain_objective,
            prediction_steps=self.prediction_steps,
            composite_weight=self.composite_weight,
            conditional=self.conditional_decoder,
            cell=self.cell,
            step_weight=step_weight,
            seed=lambda index: settings.derive("build layer", index),
            predict=lambda model, x: CompiledForward(model, max(self.batch_size, 1024))(x),
        )

    def _n_strided(self, n_samples):
        """How many of ``n_samples`` windows pretrain: every ``pretrain_stride``-th."""
        return len(range(0, n_samples, self.pretrain_stride))

    def _strided(self, X, sample_weight, steps, settings):
        """Every ``pretrain_stride``-th window, its weight and steps, and ``settings``
        for them: early stopping decided on the windows that train, and a
        validation part laid out by the estimator (``held_out``, the last windows)
        counted in kept windows."""
        stride = self.pretrain_stride
        if stride == 1:
            return X, sample_weight, steps, settings
        n, kept = len(X), self._n_strided(len(X))
        if settings.held_out is None:
            active = settings.validation_fraction > 0 and self._early_stopping_active(kept)
            settings = dataclasses.replace(
                settings, validation_fraction=self.validation_fraction if active else 0.0)
        else:  # the kept windows among the last held_out ones
            held_out = kept - self._n_strided(n - settings.held_out)
            settings = dataclasses.replace(
                settings, held_out=held_out or None,
                validation_fraction=settings.validation_fraction if held_out else 0.0)
        rows = slice(None, None, stride)
        return (X[rows], None if sample_weight is None else np.asarray(sample_weight)[rows],
                None if steps is None else steps[rows], settings)

    def _settings_within(self, settings, n_samples):
        """The phase settings of pretraining inside another estimator's fit.

        Its seed, checkpoint, callbacks and verbosity (``settings``), with this
        encoder's batch size and early stopping on ``n_samples`` windows.
        """
        return dataclasses.replace(
            settings,
            batch_size=self.batch_size,
            validation_fraction=(
                self.validation_fraction if self._early_stopping_active(n_samples) else 0.0
            ),
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            held_out=None,  # its own fraction of what it pretrains on
        )
