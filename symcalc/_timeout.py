"""Run a possibly unbounded symbolic computation with a hard time limit.

SymPy's ``limit``, ``integrate`` and ``simplify`` can run for minutes on innocent-looking
input, and a Python thread cannot be stopped from outside. :func:`call_with_timeout` therefore
runs the function in a forked child process and kills it when the time is up, so the caller is
never blocked longer than the timeout. Where ``fork`` is unavailable it falls back to a daemon
thread (the caller still gets control back on time; the thread finishes in the background).
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import SymbolicTimeout

__all__ = ["call_with_timeout"]

T = TypeVar("T")


def _child(conn: Any, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        result = ("ok", fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - reported back to the parent
        result = ("err", exc)
    try:
        conn.send_bytes(pickle.dumps(result))
    except Exception as exc:  # unpicklable result: report it as an error
        conn.send_bytes(pickle.dumps(("err", RuntimeError(f"unpicklable result: {exc}"))))
    finally:
        conn.close()


def call_with_timeout(
    fn: Callable[..., T], *args: Any, timeout: float | None, what: str = "computation", **kwargs: Any
) -> T:
    """Call ``fn(*args, **kwargs)`` and return its result within ``timeout`` seconds.

    Parameters
    ----------
    fn : callable
        A module-level function (it runs in a forked child; its result must pickle).
    timeout : float or None
        Seconds; ``None`` or ``inf`` runs ``fn`` in this process without a limit.
    what : str
        Names the computation in the timeout message.

    Raises
    ------
    SymbolicTimeout
        When the time is up; the child process has been killed by then.
    Exception
        Whatever ``fn`` raised.
    """
    if timeout is None or timeout == float("inf"):
        return fn(*args, **kwargs)
    try:
        ctx = mp.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return _thread_call(fn, args, kwargs, timeout, what)
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, kwargs), daemon=True)
    start = time.perf_counter()
    proc.start()
    send.close()
    try:
        if not recv.poll(max(timeout, 0.0)):
            raise SymbolicTimeout(f"{what} did not finish within {timeout:g} s")
        try:
            status, value = pickle.loads(recv.recv_bytes())
        except EOFError:
            raise SymbolicTimeout(
                f"{what} stopped without an answer after {time.perf_counter() - start:.2g} s"
            ) from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(1.0)
        recv.close()
    if status == "err":
        raise value
    return value


def _thread_call(fn: Callable[..., T], args: tuple, kwargs: dict, timeout: float, what: str) -> T:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["ok"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            box["err"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise SymbolicTimeout(f"{what} did not finish within {timeout:g} s")
    if "err" in box:
        raise box["err"]
    return box["ok"]
