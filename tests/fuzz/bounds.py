"""Bounds every fuzz target runs under: a CPU-time limit (a hang fails the example instead of the job), a wall-clock
limit ten times longer (for a block that waits without computing), and a cap on the address space (an input that
makes the code allocate gigabytes fails instead of taking the machine down). The time bound is CPU time because
CI machines are shared: a wall-clock bound failed an example that was only waiting for a CPU (load 6 on two
cores). Linux, main thread only (SIGPROF, SIGALRM, RLIMIT_AS), which is how pytest runs the suite."""

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

    def expire(signum: int, _frame: object) -> None:
        clock = "of CPU time" if signum == signal.SIGPROF else "of wall-clock time"
        raise TimeBoundExceeded(f"took longer than {seconds if signum == signal.SIGPROF else seconds * 10} s {clock}")

    previous_handler = signal.signal(signal.SIGALRM, expire)
    previous_profiler = signal.signal(signal.SIGPROF, expire)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + extra_memory
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, seconds * 10)
    try:
        yield
    except TimeBoundExceeded as error:  # now a plain failure, which Hypothesis reports with its input and shrinks
        raise AssertionError(str(error)) from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        signal.signal(signal.SIGPROF, previous_profiler)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
