#!/usr/bin/env bash
# The checks that need a GPU, in one run on a machine with one (the project's CI has none).
#
# Runs on the JAX backend (TensorFlow's CUDA wheels are too large to carry to a lent
# machine): the GPU and strategy tests, then the training-speed benchmark of the authors'
# network (benchmarks/speed.py) for sae_keras with and without pretraining beside plain
# Keras model.fit. Keras and its two missing pure/compiled wheels can be carried in .whl/
# (see CONTRIBUTING.md, "Checks on a GPU").
#
#   bash benchmarks/gpu_check.sh OUTDIR
#
# writes OUTDIR/gpu_check_tests.txt, OUTDIR/gpu_check_nvidia.txt, OUTDIR/speed.json/.png.
set -uo pipefail
out=${1:?"usage: gpu_check.sh OUTDIR"}
mkdir -p "$out"
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/site:$PWD"
else
    export PYTHONPATH="$PWD"
fi
# XLA_FLAGS set, even empty: XLA's default optimisation on the GPU, as users run it
# (tests/conftest.py otherwise lowers it to 0 for the CPU suite's compile time).
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2 XLA_FLAGS=
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu_check_nvidia.txt"
status=0
python3 -m pytest tests/nn/test_gpu.py tests/nn/test_distribute.py -v -rA --no-cov -p no:cacheprovider \
    2>&1 | tee "$out/gpu_check_tests.txt" || status=1
python3 benchmarks/speed.py --repeats 2 --concurrent-repeats 0 --output "$out" \
    --only "sae_keras, no pretraining (jax)" "sae_keras, pretraining (jax)" "plain Keras model.fit (jax)" \
    2>&1 | grep -v "^I0000\|^WARNING: All log" || status=1
exit $status
