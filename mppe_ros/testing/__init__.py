"""What tests and benchmarks share: the official-loop oracle, synthetic weights, frames and boxes."""
