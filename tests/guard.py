"""Run a call that must not hang in a forked child, with a wall-clock safety net.

The guard is a net, not a timing assertion: a regression that hangs fails the test after
``guard`` seconds instead of blocking the suite. Budgets are asserted on the CPU seconds the
child (and the grandchildren it waited for) spent, which other load on the machine does not
inflate.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import resource
import traceback
from collections.abc import Callable
from typing import Any


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _child(conn: Any, fn: Callable[..., Any], args: tuple) -> None:
    start = _cpu()
    try:
        out = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 - reported to the test
        out = ("raised", (type(exc), str(exc), traceback.format_exc()))
    conn.send_bytes(pickle.dumps((out, _cpu() - start)))
    conn.close()


def run_guarded(fn: Callable[..., Any], *args: Any, guard: float = 120.0) -> tuple[Any, float]:
    """``(outcome, cpu_seconds)`` of ``fn(*args)`` run in a forked child.

    ``outcome`` is ``("ok", value)`` or ``("raised", (type, message, traceback))``; the test
    fails when the child is still running after ``guard`` seconds (it is then killed).
    """
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args))
    proc.start()
    send.close()
    try:
        if not recv.poll(guard):
            raise AssertionError(f"{getattr(fn, '__name__', fn)} still running after {guard} s")
        return pickle.loads(recv.recv_bytes())
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        recv.close()
