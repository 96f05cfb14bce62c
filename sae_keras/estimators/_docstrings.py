"""Shared numpydoc text: each parameter common to several estimators, written once.

``PARAMETERS`` maps a parameter's name to its entry, exactly as it appears
under "Parameters" (the ``name : type, default=...`` line at column 0, the
description indented by 4 spaces). A docstring names an entry by a line
holding only ``{name}``; :func:`_fill_doc` replaces that line, at import time,
with the entry indented as the placeholder was. Lines right after the
placeholder, indented as the description, continue the entry with what is
true of that class alone (see ``random_state``).

Only whole-line placeholders are replaced, so the braces of value sets
(``{"input", "previous"}``) need no escaping. This module imports nothing from
the package: the estimator modules import it, never the reverse.
"""

from __future__ import annotations

import re
import textwrap

_ENTRIES = {
    "hidden_units": """
        hidden_units : int or sequence of int, default=(64, 32)
            Units of each stacked LSTM layer (its code size), bottom first.
        """,
    "cell": """
        cell : {"lstm", "bilstm", "cnn_lstm"}, default="lstm"
            The recurrent layer of every stacked encoder: an LSTM
            (the authors'); a bidirectional LSTM, ``hidden_units[k]`` units per
            direction, whose codes join both directions (twice as wide); or, in
            the layer reading the window, a causal ``Conv1D`` front-end
            (``hidden_units[0]`` filters over 3 steps, ReLU) before the LSTM.
        """,
    "activation": """
        activation : {"tanh", "relu", "sigmoid", "softsign", "elu", "selu", \
"linear"}, default="tanh"
            Activation of every LSTM. Anything but ``"tanh"`` leaves the cuDNN
            fast path on GPU.
        """,
    "optimizer": """
        optimizer : {"adam", "adamw", "nadam", "rmsprop", "sgd"}, default="adam"
            Keras optimizer, a fresh one for each phase of training (each
            autoencoder's pretraining is one).
        """,
    "learning_rate": """
        learning_rate : float, default=3e-3
            Learning rate of the optimizer, in every phase.
        """,
    "loss": """
        loss : {"mse", "mae", "huber"}, default="mse"
            Loss of every phase of training: each autoencoder's reconstruction
            (and prediction) and, in a forecaster, fine-tuning.
        """,
    "batch_size": """
        batch_size : int, default=64
            Windows per gradient step.
        """,
    "early_stopping": """
        early_stopping : bool or "auto", default="auto"
            Hold out the last ``validation_fraction`` of the windows (the most
            recent ones, for time-ordered data) and stop each phase when its
            validation loss has not improved by ``tol`` for ``n_iter_no_change``
            epochs, keeping its best weights (the starting weights count as epoch
            0). ``"auto"`` turns it on from 100 windows.
        """,
    "validation_fraction": """
        validation_fraction : float, default=0.1
            Fraction held out when ``early_stopping`` is true.
        """,
    "n_iter_no_change": """
        n_iter_no_change : int, default=10
            Patience of early stopping, in epochs.
        """,
    "tol": """
        tol : float, default=0.0
            Minimum improvement of the validation loss that counts.
        """,
    "strategy": """
        strategy : {"auto", "cpu", "gpu", "mirrored", "tpu", "multi_worker"} or \
callable, default="auto"
            Where to train; see :func:`sae_keras.nn.distribute.resolve_strategy`.
        """,
    # The regressor continues this entry with its Monte-Carlo dropout masks.
    "random_state": """
        random_state : int, RandomState instance or None, default=None
            Seeds weight initialisation, noise, dropout (where the network has
            any) and shuffling, through explicit seeds derived from it: ``fit``
            neither reads nor reseeds NumPy's, Python's or the backend's global
            generators (``None`` draws the fit's one seed from NumPy's, as
            scikit-learn does). An int makes fits repeatable on CPU, also in
            several threads at once.
        """,
    "verbose": """
        verbose : int, default=0
            0 silent; 1 names each phase and shows a Keras progress bar; 2 one line
            per epoch.
        """,
    "callbacks": """
        callbacks : list of keras.callbacks.Callback, default=None
            Extra callbacks passed to every phase's training; each phase is one
            ``Model.fit`` call (resumed fits start at ``initial_epoch``). The
            model a callback sees is named ``"autoencoder_<k>"`` while layer
            ``k`` is pretrained and ``"lstm_sae_forecaster"`` in fine-tuning.
        """,
    "checkpoint_dir": """
        checkpoint_dir : str or path-like, default=None
            If set, the training state is saved there after every epoch, and a
            ``fit`` on the same data with the same parameters that finds it resumes
            from the last finished epoch, ending with the same weights as an
            uninterrupted fit. The files are removed when ``fit`` succeeds. ``None``
            writes nothing anywhere. Machine-local: not kept by :meth:`save` (a
            loaded estimator has ``None``).
        """,
}

#: Parameter name -> its numpydoc entry, header at column 0, description at 4.
PARAMETERS = {name: textwrap.dedent(text).strip("\n") for name, text in _ENTRIES.items()}

# A line holding only ``{name}`` (and its indentation).
_PLACEHOLDER = re.compile(r"^(?P<indent>[ ]*)\{(?P<name>\w+)\}[ ]*$", re.MULTILINE)


def _fill(doc):
    """``doc`` with every placeholder line replaced by its indented entry."""
    if doc is None:  # python -OO strips docstrings
        return None

    def entry(match):
        name = match.group("name")
        if name not in PARAMETERS:
            raise KeyError(f"no shared docstring entry {name!r}; known: {sorted(PARAMETERS)}")
        return textwrap.indent(PARAMETERS[name], match.group("indent"))

    return _PLACEHOLDER.sub(entry, doc)


def _fill_doc(cls):
    """Class decorator: fill the placeholders of ``cls``' docstring; returns ``cls``."""
    cls.__doc__ = _fill(cls.__doc__)
    return cls
