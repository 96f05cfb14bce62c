"""JAX's persistent compilation cache, on by default for sae_keras' fits.

Keras' JAX trainer jits a new training step for every model it builds, so a grid
search, a cross-validation or a refit compiles the same XLA program again and
again, and so does every fresh process. XLA's persistent compilation cache keeps
the compiled programs on disk, keyed by the program itself, and a compilation it
has seen before becomes a file read.

This is the one setting sae_keras changes outside its own objects: JAX's
configuration is process-wide. It changes it only where the user has said
nothing: when JAX has no cache folder (``JAX_COMPILATION_CACHE_DIR`` unset and
``jax_compilation_cache_dir`` not configured) and its cache is not switched off
(``JAX_ENABLE_COMPILATION_CACHE=false`` or
``jax.config.update("jax_enable_compilation_cache", False)`` opts out). A user's
own cache folder and thresholds are left as they are.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import keras

#: Compilations faster than this are not written to the cache. JAX's default (1 s)
#: keeps few of a small network's programs: 39 of the 301 that the search of
#: ``benchmarks/jax_cache.py`` compiles on 2 CPU cores, and a warm second run of that
#: search took 98.6 s with it against 54.8 s with every program kept.
MIN_COMPILE_SECONDS = 0.0

#: The cache's size limit in bytes; JAX evicts the least recently used programs
#: beyond it.
MAX_CACHE_BYTES = 2 * 1024**3


def default_cache_dir():
    """The user cache folder sae_keras gives JAX's compilation cache.

    ``$XDG_CACHE_HOME/sae_keras/jax`` (``~/.cache/sae_keras/jax`` when unset),
    ``~/Library/Caches/sae_keras/jax`` on macOS and
    ``%LOCALAPPDATA%\\sae_keras\\jax`` on Windows.

    Returns
    -------
    path : pathlib.Path
        The folder (not created here).

    Examples
    --------
    >>> from sae_keras.nn._compile_cache import default_cache_dir
    >>> default_cache_dir().parts[-2:]
    ('sae_keras', 'jax')
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sae_keras" / "jax"


def use_persistent_cache():
    """Give JAX's compilation cache a folder if the user has not; the folder in use.

    Called at the start of every fit. Does nothing on TensorFlow, when JAX's
    cache is switched off, or when JAX already has a cache folder.

    Returns
    -------
    path : str or None
        The cache folder JAX uses, or ``None`` when it uses none.

    Examples
    --------
    >>> from sae_keras.nn._compile_cache import use_persistent_cache
    >>> folder = use_persistent_cache()  # None on TensorFlow
    """
    if keras.backend.backend() != "jax":
        return None
    import jax

    if not jax.config.jax_enable_compilation_cache:
        return None
    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    path = default_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: fit without the cache
        return None
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    jax.config.update("jax_compilation_cache_max_size", MAX_CACHE_BYTES)
    jax.config.update("jax_compilation_cache_dir", str(path))
    return str(path)
