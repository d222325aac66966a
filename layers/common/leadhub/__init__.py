"""Leadhub: the shared package of every Lambda (the common layer)."""

__version__ = "0.1.0"
