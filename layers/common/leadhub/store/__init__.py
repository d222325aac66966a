"""Persistence: the only package that imports boto3. Everything above it sees domain errors."""
