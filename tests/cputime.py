"""CPU seconds of the test process tree: the one way the suite bounds how long work takes.

Wall-clock bounds fail on a loaded machine (the suite shares 2 cores with other jobs). CPU
time of this process plus its reaped children (the forked SymPy workers, which
``call_with_timeout`` joins after killing them) measures the work done and is unaffected by
load; a hang still shows, in-process as burnt CPU, in a child as a timeout that fired.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from typing import Any


def tree_cpu() -> float:
    """User + system CPU seconds of this process and its reaped children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def cpu_timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """``call()`` and the CPU seconds of the process tree it used."""
    start = tree_cpu()
    out = call()
    return out, tree_cpu() - start
