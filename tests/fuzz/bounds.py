"""Bounds every fuzz target runs under: a wall-clock limit (a hang fails the example instead of the job) and
a cap on the address space (an input that makes the code allocate gigabytes fails instead of taking the machine
down). Linux, main thread only (SIGALRM, RLIMIT_AS), which is how pytest runs the suite."""

from __future__ import annotations

import contextlib
import resource
import signal
from collections.abc import Iterator


class TimeBoundExceeded(BaseException):  # not Exception: no `except Exception` under test may swallow it
    """The code under test ran past the time bound."""


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


@contextlib.contextmanager
def bounded(seconds: float = 2.0, extra_memory: int = 1 << 30) -> Iterator[None]:
    """Run the block within `seconds` and with at most `extra_memory` more bytes of address space (beyond that
    an allocation raises MemoryError, which the property under test must treat as a failure)."""

    def expire(_signum: int, _frame: object) -> None:
        raise TimeBoundExceeded(f"took longer than {seconds} s")

    previous_handler = signal.signal(signal.SIGALRM, expire)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + extra_memory
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except TimeBoundExceeded as error:  # now a plain failure, which Hypothesis reports with its input and shrinks
        raise AssertionError(str(error)) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
