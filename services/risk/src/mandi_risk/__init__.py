"""Mandi risk service."""
