"""Mandi's matching service: proposals, the trade saga and trades."""
