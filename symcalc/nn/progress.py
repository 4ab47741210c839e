"""What ``fit`` prints, with Keras's ``verbose`` meanings.

* ``verbose=0``: nothing.
* ``verbose=1``: a progress bar per epoch (tqdm) that ends showing the epoch's logs. When
  standard output is not interactive (a log file, a pipe, a test capturing output), the bar
  is not animated: each epoch prints its finished bar once, so logs stay one line per epoch.
* ``verbose=2``: one line per epoch.
* ``verbose="auto"`` (the default): 1 when standard output is interactive (a terminal or a
  Jupyter kernel), else 2.

Each line reads like Keras's:
``Epoch 3/10 - 32/32 - 0s - 1ms/step - accuracy: 0.9375 - loss: 0.2104 - val_loss: 0.2461``.

>>> resolve_verbose(0), resolve_verbose(2)
(0, 2)
"""

from __future__ import annotations

import sys
import time
from typing import Any

from ..errors import SymcalcError

__all__ = ["resolve_verbose", "is_interactive", "EpochProgress", "format_logs"]

_BAR = 20  # characters of the finished bar, as Keras draws it


def is_interactive(stream: Any = None) -> bool:
    """Whether ``stream`` (standard output by default) is shown live to a person: a
    terminal, or the output of a Jupyter/IPython kernel."""
    stream = sys.stdout if stream is None else stream
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):  # closed or unusual streams
        return False
    return "ipykernel" in sys.modules and type(stream).__name__ == "OutStream"


def resolve_verbose(verbose: Any) -> int:
    """0, 1 or 2 from Keras's ``verbose`` (``"auto"``: 1 if interactive, else 2)."""
    if verbose == "auto":
        return 1 if is_interactive() else 2
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise SymcalcError(f"verbose must be 0, 1, 2 or 'auto'; got {verbose!r}")
    return int(verbose)


def _number(value: float) -> str:
    """Keras's format: 4 decimals, scientific below 1e-3."""
    return f"{value:.4e}" if value != 0 and abs(value) < 1e-3 else f"{value:.4f}"


def format_logs(logs: dict[str, float]) -> str:
    """``"accuracy: 0.9375 - loss: 0.2104"``."""
    return " - ".join(f"{k}: {_number(v)}" for k, v in logs.items())


def _timing(seconds: float, steps: int) -> str:
    per = seconds / max(steps, 1)
    per_text = f"{per * 1e3:.0f}ms/step" if per >= 1e-3 else f"{per * 1e6:.0f}us/step"
    return f"{seconds:.0f}s - {per_text}"


class EpochProgress:
    """Progress output of one ``fit`` call (``verbose`` already resolved to 1 or 2)."""

    def __init__(self, verbose: int, epochs: int, steps: int, stream: Any = None) -> None:
        self.verbose, self.epochs, self.steps = verbose, epochs, steps
        self.stream = sys.stdout if stream is None else stream
        self.live = verbose == 1 and is_interactive(self.stream)
        self._bar: Any = None
        self._start = 0.0

    def epoch_begin(self, epoch: int) -> None:
        self._start = time.perf_counter()
        if self.live:
            from tqdm import tqdm

            self._bar = tqdm(total=self.steps, desc=f"Epoch {epoch + 1}/{self.epochs}",
                             unit="step", file=self.stream, leave=True, dynamic_ncols=True)

    def batch_end(self, loss: float) -> None:
        """After each batch (only called when the bar is live)."""
        self._bar.set_postfix_str(f"loss: {_number(loss)}", refresh=False)
        self._bar.update(1)

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        seconds = time.perf_counter() - self._start
        text = format_logs(logs)
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.close()
            self._bar = None
            return
        head = f"Epoch {epoch + 1}/{self.epochs} - {self.steps}/{self.steps}"
        if self.verbose == 1:
            head += " " + "━" * _BAR
        print(f"{head} - {_timing(seconds, self.steps)} - {text}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
