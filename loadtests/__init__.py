"""pricing-edge's load harness: ``python -m loadtests`` (or ``make bench``).

It starts the whole system itself (edge as ``pricing-edge serve --workers N`` on a real Redis, both
simulators, the limit baseline), warms it, drives every scenario at a fixed request rate with
autocannon (paced, coordinated-omission corrected, HdrHistogram), runs the baselines in the same
run, measures event-to-visible latency at every edge process, and writes ``docs/benchmarks/latest.json``,
a Markdown section appended to ``docs/benchmarks.md`` and ``docs/benchmarks/latency.png``.
"""
