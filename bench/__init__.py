"""Benchmarks (``make bench``): throughput and ratios measured in one run; not timed tests."""
