"""`mppe-ros bench`: speed, node-level, soak and tracking benchmarks (measure, report, run)."""
