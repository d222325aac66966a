"""Leadhub: the shared package of every Lambda (the common layer)."""
