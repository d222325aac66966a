"""Pydantic models of the domain: connectors, their settings, conversions."""
