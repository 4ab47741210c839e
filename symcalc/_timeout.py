"""Run a possibly unbounded symbolic computation with a hard time limit.

SymPy's ``limit``, ``integrate`` and ``simplify`` can run for minutes on innocent-looking
input, and a Python thread cannot be stopped from outside. :func:`call_with_timeout` therefore
runs the function in a forked child process and kills it when the time is up, so the caller is
never blocked longer than the timeout. Where ``fork`` is unavailable it falls back to a daemon
thread (the caller still gets control back on time; the thread finishes in the background).

The child never outlives its caller: on Linux the kernel kills it when the parent dies
(``prctl(PR_SET_PDEATHSIG)``, also after SIGKILL), and a watchdog thread in the child exits as
soon as it is re-parented (every platform with ``fork``). It volunteers first for the
out-of-memory killer (``oom_score_adj``), and a child that ran out of memory or was killed is
reported as such.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import pickle
import signal
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import SymbolicTimeout

__all__ = ["call_with_timeout"]

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1
_WATCH_SECONDS = 0.25  # how often the child's watchdog looks for its parent
_MAX_WAIT = 3600.0  # one poll never waits longer (Connection.poll overflows beyond ~2**31 s)


def _die_with_parent(parent: int) -> None:
    """Make sure this (child) process ends when ``parent`` does."""
    try:  # the process's own symbols include libc's prctl on Linux
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the watchdog below does the job
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    try:  # if memory runs out, the OOM killer takes this child rather than its caller
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


def _child(conn: Any, parent: int, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    """Body of the forked child: run ``fn`` and send back one pickled message, then exit.

    Nothing escapes this function (a traceback printed by multiprocessing would be a stray
    "Process ForkProcess-1:" on the caller's stderr); the child ends with ``os._exit``.
    """
    code = 0
    try:
        _die_with_parent(parent)
        try:
            result: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except MemoryError:
            result = ("memory", None)
        except BaseException as exc:  # noqa: BLE001 - reported back to the parent
            result = ("err", exc)
        try:
            payload = pickle.dumps(result)
        except MemoryError:
            payload = pickle.dumps(("memory", None))
        except Exception as exc:  # unpicklable result: report it as an error
            payload = pickle.dumps(("err", RuntimeError(f"unpicklable result: {exc}")))
        conn.send_bytes(payload)
    except BaseException:  # noqa: BLE001 - e.g. the parent closed the pipe: just leave
        code = 1
    finally:
        os._exit(code)


def _describe_death(proc: Any, what: str, elapsed: float) -> SymbolicTimeout:
    proc.join(1.0)
    code = proc.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        if -code == getattr(signal, "SIGKILL", None):
            return SymbolicTimeout(
                f"{what} was killed ({name}) after {elapsed:.2g} s, most likely by the system "
                "for using too much memory"
            )
        return SymbolicTimeout(f"{what} was killed by signal {name} after {elapsed:.2g} s")
    return SymbolicTimeout(f"{what} stopped without an answer after {elapsed:.2g} s")


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
        When the time is up (the child has been killed by then), or the child ran out of
        memory or was killed; the message says which.
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
    # not daemonic: callers may themselves be daemonic (multiprocessing pool workers), and
    # the child ends with its parent anyway (see _die_with_parent)
    proc = ctx.Process(target=_child, args=(send, os.getpid(), fn, args, kwargs))
    start = time.perf_counter()
    with warnings.catch_warnings():
        # JAX (and other threaded libraries) warn at every fork; the child only runs SymPy and
        # never touches their threads or locks, so the warning would only alarm the user
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
        proc.start()
    send.close()
    try:
        if not _wait(recv, max(timeout, 0.0)):
            raise SymbolicTimeout(f"{what} did not finish within {timeout:g} s")
        try:
            status, value = pickle.loads(recv.recv_bytes())  # noqa: S301 - our child's bytes
        except EOFError:
            raise _describe_death(proc, what, time.perf_counter() - start) from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(1.0)
        recv.close()
    if status == "memory":
        raise SymbolicTimeout(
            f"{what} ran out of memory after {time.perf_counter() - start:.2g} s"
        )
    if status == "err":
        raise value
    return value


def _wait(conn: Any, timeout: float) -> bool:
    """``conn.poll(timeout)`` for any timeout, however large."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if conn.poll(min(max(remaining, 0.0), _MAX_WAIT)):
            return True
        if remaining <= _MAX_WAIT:
            return False


def _thread_call(fn: Callable[..., T], args: tuple, kwargs: dict, timeout: float, what: str) -> T:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["ok"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            box["err"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(min(timeout, threading.TIMEOUT_MAX))
    if thread.is_alive():
        raise SymbolicTimeout(f"{what} did not finish within {timeout:g} s")
    if "err" in box:
        raise box["err"]
    return box["ok"]
