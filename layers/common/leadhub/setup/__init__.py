"""Connector setup: projects, credentials checks, connectors and their lifecycle (seeds 000, 001)."""
