"""Mandi's partners service: the companies that trade on a marketplace, and their onboarding."""
