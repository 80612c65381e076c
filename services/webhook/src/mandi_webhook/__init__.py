"""Mandi webhook service."""
