"""Vendor HTTP clients on one shared transport."""
