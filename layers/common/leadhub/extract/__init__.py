"""The incremental extraction engine: day slices, lookback, checkpoints, leases (vendors A7 / B5)."""
