"""Side-by-side ratio benchmarks for symcalc (run ``python -m benchmarks [--quick]``)."""
