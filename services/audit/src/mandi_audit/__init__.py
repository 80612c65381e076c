"""Mandi's audit service: every event in a per-tenant hash chain, signed, verifiable offline."""
