"""Process settings for the Kafka bulk paths (relay, intake, consume, rebuild).

`for_kafka()` is what the Kafka commands call: the collector settings below, and kafka-python
with the faster record encoder/decoder of `consumers.fastrecords` (same bytes, same records).
`die_with_parent()` is for their worker processes.

These processes keep hundreds of thousands of small objects alive at a time (records, headers,
futures, grouped events). CPython's cyclic collector then spends much of its time traversing
them: with the default thresholds the relay and the rebuild ran about a quarter slower
(measured). Nearly all of these objects are freed by reference counting, so collecting cycles
less often costs little memory.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 100_000


def for_throughput() -> None:
    """Move what exists so far out of the collector's sight and collect young objects rarely."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, 20, 100)


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this worker process when its parent (the relay, a rebuild) dies,
    even by kill -9."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the closed pipe still ends the worker
        pass


def for_kafka() -> None:
    """`for_throughput()`, and kafka-python's record code replaced by `consumers.fastrecords`."""
    from consumers import fastrecords

    for_throughput()
    fastrecords.install()
