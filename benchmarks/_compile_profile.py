"""A pytest plugin for ``suite_cost.py --compile-profile``: JAX's compile seconds per test.

Loaded with ``-p _compile_profile`` (``benchmarks/`` on ``PYTHONPATH``) when
``SUITE_COMPILE_PROFILE_DIR`` names a folder. It listens to JAX's monitoring
events in each pytest process (each xdist worker), books every event's
seconds to the test running at the time, and writes one JSON file per process
into that folder at the end of the session: ``{test id: {event: [seconds,
count]}}``, ``"wall"`` among the events. Compilations in subprocesses that tests
start (fresh-process and whole-script tests) are not seen: their seconds count
in the test's wall time only.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

FOLDER_VARIABLE = "SUITE_COMPILE_PROFILE_DIR"

_running = {"test": "<outside tests>"}
_events = defaultdict(lambda: defaultdict(lambda: [0.0, 0]))


def _book(event, seconds):
    booked = _events[_running["test"]][event]
    booked[0] += seconds
    booked[1] += 1


def _listener(event, duration_secs, **kwargs):
    _book(event, duration_secs)


def pytest_configure(config):
    if os.environ.get(FOLDER_VARIABLE):
        import jax.monitoring

        jax.monitoring.register_event_duration_secs_listener(_listener)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _running["test"] = item.nodeid
    start = time.perf_counter()
    yield
    _book("wall", time.perf_counter() - start)
    _running["test"] = "<outside tests>"


def pytest_sessionfinish(session):
    folder = os.environ.get(FOLDER_VARIABLE)
    if folder:
        process = os.environ.get("PYTEST_XDIST_WORKER", "controller")
        path = Path(folder) / f"{process}.json"
        path.write_text(json.dumps({test: dict(events) for test, events in _events.items()}))
