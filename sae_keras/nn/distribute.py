"""Distribution strategies: the one module that knows which Keras backend runs.

The estimators take a plain string (or a zero-argument callable) as their
``strategy`` parameter, so that they stay clonable and picklable, and resolve it
here, inside ``fit``, into the backend's own object: a ``tf.distribute.Strategy``
on TensorFlow, a ``keras.distribution.Distribution`` on JAX. Every model is
built, compiled and trained inside :func:`strategy_scope`.
"""

from __future__ import annotations

import contextlib
import os

import keras
import numpy as np

from ._compile_cache import use_persistent_cache

#: Keras backends sae_keras runs on.
SUPPORTED_BACKENDS = ("tensorflow", "jax")

#: Names accepted by the estimators' ``strategy`` parameter.
STRATEGY_NAMES = ("auto", "cpu", "gpu", "mirrored", "tpu", "multi_worker")

#: Environment variables that tell ``keras.distribution.initialize`` the workers.
MULTI_WORKER_ENV = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)


def check_backend():
    """Return the active Keras backend, or raise if sae_keras cannot train on it.

    Returns
    -------
    backend : str
        ``"tensorflow"`` or ``"jax"``.

    Raises
    ------
    RuntimeError
        If Keras runs on another backend (``torch``, ``numpy``, ...).

    Examples
    --------
    >>> from sae_keras.nn.distribute import check_backend
    >>> check_backend() in ("tensorflow", "jax")
    True
    """
    backend = keras.backend.backend()
    if backend not in SUPPORTED_BACKENDS:
        raise RuntimeError(
            f"sae_keras trains on the Keras backends {SUPPORTED_BACKENDS}, but Keras "
            f"runs on {backend!r} (KERAS_BACKEND={os.environ.get('KERAS_BACKEND')!r}). "
            "Set KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax before Keras is imported."
        )
    return backend


def resolve_strategy(strategy="auto"):
    """Turn a strategy name into the active backend's distribution object.

    Parameters
    ----------
    strategy : {"auto", "cpu", "gpu", "mirrored", "tpu"} or callable, default="auto"
        - ``"auto"``: the strategy already in effect if the caller entered one,
          then a TPU if one is reachable, then data parallelism over all GPUs
          when there are several, otherwise the backend's default placement
          (``None`` is returned).
        - ``"cpu"``: the first CPU only.
        - ``"gpu"``: the first GPU only; an error if there is none.
        - ``"mirrored"``: synchronous data parallelism over all GPUs, or over
          all (logical) CPU devices when there is no GPU.
        - ``"tpu"``: all cores of the TPU (TensorFlow: ``TPUClusterResolver``
          and ``TPUStrategy``; JAX: ``DataParallel`` over its TPU devices); a
          ``RuntimeError`` naming the TPU when none is reachable.
        - ``"multi_worker"`` (JAX): synchronous data parallelism over the
          devices of several processes (machines). Every worker runs the same
          program and fit on the same data, with ``KERAS_DISTRIBUTION_JOB_ADDRESSES``
          (``"host:port,..."``, the first is the coordinator),
          ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and ``KERAS_DISTRIBUTION_PROCESS_ID``
          set (or after calling ``keras.distribution.initialize`` itself, before
          JAX computes anything); each feeds its own share of every batch and
          all end with the same weights. On TensorFlow a ``RuntimeError``:
          ``MultiWorkerMirroredStrategy`` does not train with Keras 3's ``fit``.
        - a callable taking no argument and returning a ``tf.distribute.Strategy``
          (TensorFlow) or a ``keras.distribution.DataParallel`` or
          ``ModelParallel`` (JAX).

    Returns
    -------
    resolved : object or None
        A ``tf.distribute.Strategy``, a ``keras.distribution.Distribution``, or
        ``None`` for the backend's default placement.

    Examples
    --------
    >>> from sae_keras.nn.distribute import resolve_strategy
    >>> resolved = resolve_strategy("cpu")
    """
    backend = check_backend()
    if callable(strategy):
        return _check_callable_result(strategy(), backend)
    if strategy not in STRATEGY_NAMES:
        raise ValueError(
            f"strategy must be one of {STRATEGY_NAMES} or a callable; got {strategy!r}."
        )
    if strategy == "multi_worker":
        return _multi_worker(backend)
    if backend == "tensorflow":
        return _resolve_tensorflow(strategy)
    return _resolve_jax(strategy)


def _multi_worker(backend):
    if backend == "tensorflow":
        raise RuntimeError(
            "strategy='multi_worker' is not available on TensorFlow: "
            "MultiWorkerMirroredStrategy fails with Keras 3's fit (keras-team/keras#20585). "
            "Run the workers with KERAS_BACKEND=jax, where it trains through "
            "keras.distribution.initialize (see sae_keras.nn.distribute.resolve_strategy)."
        )
    import jax
    from keras import distribution

    if not jax.distributed.is_initialized():
        missing = [name for name in MULTI_WORKER_ENV if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                "strategy='multi_worker' needs to know the workers: set "
                f"{', '.join(MULTI_WORKER_ENV)} on every worker (missing: "
                f"{', '.join(missing)}), or call keras.distribution.initialize(...) at "
                "the start of the program."
            )
        # CPU workers exchange gradients through gloo; GPUs and TPUs use their own.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        try:
            distribution.initialize()
        except RuntimeError as exc:
            raise RuntimeError(
                f"strategy='multi_worker' could not join the workers ({exc}); JAX must "
                "be initialised before it computes anything: call "
                "keras.distribution.initialize() at the start of the program."
            ) from None
    return distribution.DataParallel(devices=distribution.list_devices(),
                                     auto_shard_dataset=False)


def process_shard():
    """``(process_index, process_count)`` when each process feeds its own batches, else ``None``.

    Under ``strategy="multi_worker"`` (a JAX ``DataParallel`` that does not
    shard the data itself, over several processes) every process passes its
    own share of each global batch.

    Examples
    --------
    >>> from sae_keras.nn.distribute import process_shard
    >>> process_shard() is None
    True
    """
    if keras.backend.backend() != "jax":
        return None
    current = keras.distribution.distribution()
    if current is None or getattr(current, "auto_shard_dataset", True):
        return None
    import jax

    count = jax.process_count()
    return (jax.process_index(), count) if count > 1 else None


@contextlib.contextmanager
def strategy_scope(strategy="auto"):
    """Context manager under which models are built, compiled and trained.

    Parameters
    ----------
    strategy : str or callable, default="auto"
        See :func:`resolve_strategy`.

    Yields
    ------
    resolved : object or None
        The resolved strategy or distribution. Under JAX the previous
        ``keras.distribution`` is restored on exit, and JAX's persistent
        compilation cache gets a user folder if it has none
        (see "JAX's compilation cache" in the Backends guide).

    Examples
    --------
    >>> import keras
    >>> from sae_keras.nn.distribute import strategy_scope
    >>> with strategy_scope("auto"):
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    """
    resolved = resolve_strategy(strategy)
    use_persistent_cache()
    scope = contextlib.nullcontext() if resolved is None else resolved.scope()
    with scope:
        yield resolved


def _check_callable_result(resolved, backend):
    if backend == "tensorflow":
        import tensorflow as tf

        expected, names = (tf.distribute.Strategy,), "tf.distribute.Strategy"
    else:
        # keras.distribution exports the concrete distributions, not their base.
        expected = (keras.distribution.DataParallel, keras.distribution.ModelParallel)
        names = "keras.distribution.DataParallel or ModelParallel"
    if not isinstance(resolved, expected):
        raise TypeError(
            f"A callable strategy must return a {names} on the {backend} backend; "
            f"got {type(resolved).__name__}."
        )
    return resolved


def _resolve_tensorflow(name):
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if name == "tpu":
        return _tensorflow_tpu(tf, required=True)
    if name == "auto":
        if tf.distribute.has_strategy():
            return tf.distribute.get_strategy()
        tpu = _tensorflow_tpu(tf, required=False)
        if tpu is not None:
            return tpu
        return tf.distribute.MirroredStrategy(gpus) if len(gpus) > 1 else None
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    if name == "gpu":
        if not gpus:
            raise RuntimeError(
                "strategy='gpu' asks for a GPU, but TensorFlow sees none "
                "(tf.config.list_physical_devices('GPU') is empty); use "
                "strategy='auto' or 'cpu'."
            )
        return tf.distribute.OneDeviceStrategy(gpus[0])
    if gpus:
        return tf.distribute.MirroredStrategy(gpus)
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    # NCCL, MirroredStrategy's default all-reduce, exists only for GPUs.
    return tf.distribute.MirroredStrategy(
        cpus, cross_device_ops=tf.distribute.ReductionToOneDevice()
    )


def _tensorflow_tpu(tf, required):
    """A ``TPUStrategy`` over the TPU the environment names, or ``None`` (or an error)."""
    if not required and not (os.environ.get("TPU_NAME") or os.path.exists("/dev/accel0")
                             or os.environ.get("COLAB_TPU_ADDR")):
        return None  # nothing suggests a TPU: do not wait on a metadata server
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        if not required:
            return None
        raise RuntimeError(
            "strategy='tpu' asks for a TPU, but TensorFlow reaches none "
            f"(TPUClusterResolver: {exc}); on a TPU VM set TPU_NAME, or use "
            "strategy='auto'."
        ) from None


def _resolve_jax(name):
    from keras import distribution

    accelerators = distribution.list_devices()
    if accelerators and accelerators[0].startswith("cpu"):
        accelerators = []
    tpus = [d for d in accelerators if d.startswith("tpu")]
    if name == "tpu":
        if not tpus:
            raise RuntimeError(
                "strategy='tpu' asks for a TPU, but JAX sees none (jax.devices() has no "
                "TPU; install jax[tpu] on a TPU VM); use strategy='auto'."
            )
        return distribution.DataParallel(devices=tpus)
    if name == "auto":
        if distribution.distribution() is not None:
            return distribution.distribution()
        if tpus:
            return distribution.DataParallel(devices=tpus)
        if len(accelerators) > 1:
            return distribution.DataParallel(devices=accelerators)
        return None
    if name == "cpu":
        return distribution.DataParallel(devices=distribution.list_devices("cpu")[:1])
    if name == "gpu":
        gpus = [d for d in accelerators if d.startswith("gpu")]
        if not gpus:
            raise RuntimeError(
                "strategy='gpu' asks for a GPU, but JAX sees none "
                "(jax.devices() has no GPU); use strategy='auto' or 'cpu'."
            )
        return distribution.DataParallel(devices=gpus[:1])
    return distribution.DataParallel(devices=accelerators or distribution.list_devices("cpu"))


def cudnn_kernel_setting():
    """The ``use_cudnn`` an LSTM built now must take: ``False`` where cuDNN cannot run.

    Keras picks the cuDNN LSTM kernel whenever the process sees a GPU, also
    inside a strategy that computes on the CPU alone (``strategy="cpu"`` on a
    machine with a GPU), where that kernel does not exist: JAX fails with
    "MLIR translation rule for primitive 'rnn_fwd' not found for platform
    cpu". The builders ask this function for every LSTM, so a model built
    under such a strategy takes Keras' portable kernel; anywhere else Keras
    chooses (``"auto"``).

    Returns
    -------
    setting : {"auto", False}

    Examples
    --------
    >>> from sae_keras.nn.distribute import cudnn_kernel_setting, strategy_scope
    >>> with strategy_scope("cpu"):
    ...     setting = cudnn_kernel_setting()
    >>> setting in ("auto", False)
    True
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if not tf.config.list_logical_devices("GPU") or not tf.distribute.has_strategy():
            return "auto"
        devices = _devices(tf.distribute.get_strategy())
    else:
        import jax

        distribution = keras.distribution.distribution()
        if jax.default_backend() != "gpu" or distribution is None:
            return "auto"
        devices = _devices(distribution)
    on_cpu = all("cpu" in device.lower() for device in devices)
    return False if on_cpu and devices else "auto"


def _devices(resolved):
    """The devices a ``tf.distribute.Strategy`` or a Keras distribution computes on."""
    if hasattr(resolved, "extended"):  # a tf.distribute.Strategy
        return [str(d) for d in getattr(resolved.extended, "worker_devices", ())]
    return [str(d) for d in np.ravel(resolved.device_mesh.devices)]


def describe(resolved, strategy):
    """What ran where, as plain values: ``{"name", "devices", "replicas"}``.

    Parameters
    ----------
    resolved : object or None
        What :func:`strategy_scope` yielded.
    strategy : str or callable
        The estimator's ``strategy`` parameter.

    Returns
    -------
    description : dict
        ``name``: the parameter's name, or the strategy's class for a callable
        (``"default"`` placement under ``"auto"`` with nothing to distribute
        over); ``devices``: the devices trained on; ``replicas``: how many
        copies of the model each batch was split over.

    Examples
    --------
    >>> from sae_keras.nn.distribute import describe, resolve_strategy
    >>> describe(resolve_strategy("cpu"), "cpu")["replicas"]
    1
    """
    name = strategy if isinstance(strategy, str) else type(resolved).__name__
    if resolved is None:
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_logical_devices("GPU")
            devices = [(gpus or tf.config.list_logical_devices("CPU"))[0].name]
        else:
            devices = [keras.distribution.list_devices()[0]]
        return {"name": "default" if name == "auto" else name, "devices": devices,
                "replicas": 1}
    devices = _devices(resolved)
    replicas = (int(resolved.num_replicas_in_sync) if hasattr(resolved, "extended")
                else len(devices))
    return {"name": name, "devices": devices, "replicas": replicas}
