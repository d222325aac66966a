"""Long-running connector work as jobs: one dispatch, one lease, a time budget with continuation,
progress, the last error, supersession by a newer settings version; the backfill plan."""
