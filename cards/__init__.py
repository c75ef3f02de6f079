"""Adaptive Cards 1.3 for both platforms: pure functions from view models to dicts."""
