"""XLSX writers and readers."""
