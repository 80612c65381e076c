"""The rules of matching and trades: pure, no I/O."""
