"""Every use of a private Keras or TensorFlow name, in one place, each checked before use.

The package otherwise uses only public Keras API. The few places where it
reaches behind it are here, and nowhere else (``tests/training/test_keras_private.py``
walks the package's source to keep it so):

- :func:`skip_single_replica_all_reduce`: replaces the TensorFlow optimizer's
  ``_all_reduce_sum_gradients`` for one ``fit`` on one replica (it leaks a
  gradient function per trace, keras-team/keras#20552);
- :func:`build_optimizer`: creates the optimizer's variables before ``fit``
  traces its train step (public ``Optimizer.build``, relied on for how Keras'
  TensorFlow trainer traces);
- :func:`dropout_seed_states`: the states of the dropout layers' seed
  generators, read and written for repeatable Monte-Carlo dropout;
- :func:`clear_eager_kernel_cache`: empties TensorFlow's eager kernel cache
  after each training phase.

Each helper first checks that the names it needs exist with the signatures it
was written for, and raises a ``RuntimeError`` naming the Keras and TensorFlow
versions and the missing name otherwise, rather than silently doing something
else. :func:`self_check` runs every check of the current backend.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect

import keras

#: What the TensorFlow optimizer's ``_all_reduce_sum_gradients`` takes.
_ALL_REDUCE = "_all_reduce_sum_gradients"
_ALL_REDUCE_PARAMETERS = ("self", "grads_and_vars")


def _versions():
    versions = f"Keras {keras.__version__}"
    import sys

    tf = sys.modules.get("tensorflow")
    if tf is not None:
        versions += f", TensorFlow {getattr(tf, '__version__', '?')}"
    return versions


def _broken(name, problem):
    return RuntimeError(
        f"sae_keras relies on the private name {name} ({problem}) and it has changed in "
        f"{_versions()}: this version of sae_keras does not support it. Install a Keras "
        "version it was tested with (see pyproject.toml) or report the change."
    )


def _require_parameters(function, name, expected):
    """``function`` takes exactly the parameters ``expected`` (``None``: any name there)."""
    try:
        parameters = tuple(inspect.signature(function).parameters)
    except (TypeError, ValueError) as error:  # pragma: no cover - not introspectable
        raise _broken(name, f"its signature cannot be read: {error}") from None
    if len(parameters) != len(expected) or any(
        want is not None and want != have for want, have in zip(expected, parameters)
    ):
        raise _broken(name, f"expected parameters {expected}, found {parameters}")


def _tf_optimizer_class():
    try:
        module = importlib.import_module("keras.src.backend.tensorflow.optimizer")
        return module.TFOptimizer
    except (ImportError, AttributeError):
        raise _broken("keras.src.backend.tensorflow.optimizer.TFOptimizer", "missing") from None


def _check_all_reduce(optimizer_class):
    method = getattr(optimizer_class, _ALL_REDUCE, None)
    if not callable(method):
        raise _broken(f"{optimizer_class.__name__}.{_ALL_REDUCE}", "missing")
    _require_parameters(method, f"{optimizer_class.__name__}.{_ALL_REDUCE}",
                        _ALL_REDUCE_PARAMETERS)


@contextlib.contextmanager
def skip_single_replica_all_reduce(model):
    """Let the optimizer of ``model`` skip its gradient all-reduce on one replica.

    On TensorFlow, Keras' optimizer passes the gradients through the replica
    context's ``all_reduce`` at every traced train step, even with one replica
    where the sum over replicas is the gradient itself. That ``all_reduce`` is a
    ``tf.custom_gradient``, which registers a gradient function in TensorFlow's
    process-wide registry at every trace and never removes it; the function
    holds the whole traced train step. Each fitted model thus kept about 10 MB
    alive for the life of the process, whatever was deleted or cleared
    (keras-team/keras#20552; ``benchmarks/refit_memory.py``). With one replica
    the all-reduce is skipped (an instance attribute, for this ``fit`` only);
    with several, on other backends, or for an optimizer that is not Keras'
    own, it runs as Keras wrote it.
    """
    optimizer = getattr(model, "optimizer", None)
    if (
        keras.backend.backend() != "tensorflow"
        or not isinstance(optimizer, keras.optimizers.Optimizer)
        or model.distribute_strategy.num_replicas_in_sync != 1
    ):
        yield
        return
    _check_all_reduce(type(optimizer))
    # The replacement returns the (gradient, variable) pairs as they are.
    optimizer.__dict__[_ALL_REDUCE] = list
    try:
        yield
    finally:
        optimizer.__dict__.pop(_ALL_REDUCE, None)


def build_optimizer(model):
    """Create the optimizer's variables before ``fit`` traces the train step.

    On TensorFlow a ``tf.function`` whose first trace creates variables (Keras
    builds the optimizer lazily, at the first update) is traced a second time;
    with the variables made beforehand the train step is traced once, which
    saves about a second per phase on 2 CPU cores. The new variables start at
    zero either way.
    """
    optimizer = getattr(model, "optimizer", None)
    if keras.backend.backend() != "tensorflow" or optimizer is None or optimizer.built:
        return
    _require_parameters(type(optimizer).build, f"{type(optimizer).__name__}.build",
                        ("self", None))
    with model.distribute_strategy.scope():
        optimizer.build(model.trainable_variables)


def _check_seed_generator(layer):
    generator = getattr(layer, "seed_generator", None)
    if not isinstance(generator, keras.random.SeedGenerator):
        raise _broken(f"{type(layer).__name__}.seed_generator",
                      f"expected a keras.random.SeedGenerator, found {type(generator).__name__}")
    state = getattr(generator, "state", None)
    if not isinstance(state, keras.Variable):
        raise _broken("SeedGenerator.state",
                      f"expected a keras.Variable, found {type(state).__name__}")
    return state


def dropout_seed_states(model):
    """The ``keras.Variable`` holding each dropout layer's seed state, in layer order.

    Assigning to them (same shape and dtype) sets where the layers' masks are
    drawn from; they are model variables, saved and restored with the model.
    """
    return [
        _check_seed_generator(layer) for layer in model.layers
        if isinstance(layer, keras.layers.Dropout)
    ]


def _eager_context():
    try:
        from tensorflow.python.eager import context
    except ImportError:
        raise _broken("tensorflow.python.eager.context", "missing") from None
    current = context.context()
    if not callable(getattr(current, "clear_kernel_cache", None)):
        raise _broken("tensorflow.python.eager.context.Context.clear_kernel_cache", "missing")
    return current


def clear_eager_kernel_cache():
    """Empty TensorFlow's eager kernel cache (a no-op on other backends).

    TensorFlow keeps a kernel for every distinct op it runs eagerly, and each
    fit (new shapes, new seeds for the initial weights) adds some: about 2 MB
    per small fit that no deleted model gives back (the soak test in
    ``tests/training/test_reliability.py``). Until issue 21 the package reseeded
    TensorFlow at every phase, and ``tf.random.set_seed`` clears this cache as
    a side effect; the package no longer touches the global seed, so it clears
    the cache itself, once per training phase. It is only a cache: the caller's
    later eager ops rebuild what they need.
    """
    if keras.backend.backend() != "tensorflow":
        return
    _eager_context().clear_kernel_cache()


def self_check():
    """Check every private name the current backend's code paths use.

    Raises
    ------
    RuntimeError
        Naming the Keras (and TensorFlow) version and the name that is missing
        or whose signature changed.
    """
    _check_seed_generator(keras.layers.Dropout(0.5))
    if keras.backend.backend() == "tensorflow":
        _check_all_reduce(_tf_optimizer_class())
        optimizer = keras.optimizers.Adam()
        if not hasattr(optimizer, "built"):
            raise _broken("Optimizer.built", "missing")
        _require_parameters(type(optimizer).build, "Adam.build", ("self", None))
        _eager_context()
