"""Mandi's auth service."""
