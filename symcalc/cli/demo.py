"""``symcalc demo``: run every capability on built-in data and write the plots."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run all capabilities on built-in data and write plots")
    p.add_argument("--out", default="symcalc-demo", help="folder for the PNG plots")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("symcalc demo: under construction")
    return 0
