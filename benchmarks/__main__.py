"""Run every benchmark suite and print markdown tables of ratios.

Usage: ``python -m benchmarks [--quick] [--only NAME ...]``. Each suite module in ``SUITES``
has ``run(quick: bool) -> str`` returning markdown. ``--quick`` uses small sizes so CI can
run it in seconds (no timing assertions anywhere).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys

SUITES: tuple[str, ...] = ("auc", "mlp", "softmax", "descent", "compile", "readable", "limits",
                          "startup", "blocks")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument("--only", nargs="*", default=None, help="suite names to run")
    args = parser.parse_args(argv)
    import numpy

    print(f"# symcalc benchmarks{' (quick)' if args.quick else ''}\n")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, NumPy {numpy.__version__}\n"
    )
    for name in SUITES:
        if args.only and name not in args.only:
            continue
        module = importlib.import_module(f".{name}", __package__)
        print(module.run(args.quick))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
