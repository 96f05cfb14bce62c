"""``export``: a fitted estimator's network, its scaling folded in, as ONNX or a
TensorFlow SavedModel for serving without Python's estimator (mixin of
:class:`~sae_keras.LSTMSAERegressor` and :class:`~sae_keras.LSTMSAEEncoder`)."""

from __future__ import annotations

from sklearn.utils.validation import check_is_fitted

from ..nn._serving import FORMATS, check_exportable, export_model


class _Exportable:
    """Mixin: :meth:`export`, over the class's ``_serving_model()`` (the network to write)."""

    def export(self, path, format="onnx"):
        """Write the fitted network, scaling included, for serving with ONNX Runtime or TensorFlow.

        The exported model reads raw windows, as ``predict`` (or ``transform``)
        does: float32 of shape ``(batch, timesteps_, n_channels_in_)``, any
        batch size; the standardisation learned in ``fit`` runs inside it, and
        it returns what the estimator returns (a forecaster's forecasts in the
        target's units and shape; an encoder's codes). Models fitted with
        covariates take them as two more inputs, ``static_covariates``
        ``(batch, n_static)`` and ``future_covariates`` ``(batch, steps,
        n_future)``; variable-length models read NaN right padding. The
        Python estimator, sae_keras and Keras are not needed to run it.

        Parameters
        ----------
        path : str or path-like
            ``format="onnx"``: the ``.onnx`` file to write.
            ``"tf_saved_model"``: the SavedModel folder.
        format : {"onnx", "tf_saved_model"}, default="onnx"
            ``"onnx"`` for ONNX Runtime (through ``tf2onnx`` on the TensorFlow
            backend, ``jax2onnx`` on JAX); ``"tf_saved_model"`` for TensorFlow
            Serving or ``tf.saved_model.load`` (its ``serve`` endpoint).
            ``pip install 'sae-keras[export]'`` installs ONNX Runtime and
            the TensorFlow backend's converter, ``'sae-keras[export-jax]'``
            the JAX backend's.

        Returns
        -------
        path : pathlib.Path

        Raises
        ------
        ValueError
            For an unknown ``format``, or a network built with an option the
            backend's converter cannot translate (the message names it; on
            JAX, ``cell="bilstm"`` has no ONNX export).
        ImportError
            If the format's converter is not installed.

        Examples
        --------
        >>> import numpy as np
        >>> import onnxruntime
        >>> from sae_keras import LSTMSAEEncoder, LSTMSAERegressor
        >>> series = 20 + 5 * np.sin(np.linspace(0, 30, 400))
        >>> X = np.stack([series[i:i + 12] for i in range(380)])[..., None]
        >>> reg = LSTMSAERegressor((8,), pretraining=LSTMSAEEncoder(pretrain_epochs=1), epochs=2,
        ...                        random_state=0).fit(X, series[12:392])
        >>> path = reg.export("forecaster.onnx")  # doctest: +SKIP
        >>> session = onnxruntime.InferenceSession(str(path))  # doctest: +SKIP
        >>> session.run(None, {"window": X[:2].astype("float32")})[0].shape  # doctest: +SKIP
        (2,)
        """
        check_is_fitted(self)
        if format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}; got {format!r}.")
        check_exportable(self.model_, format)
        return export_model(self._serving_model(), path, format)
