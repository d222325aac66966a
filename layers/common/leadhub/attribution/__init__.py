"""Normalisation and attribution: vendor rows in, `Conversion`s out, with no I/O.

`rules.AttributionRules` is built once from a connector's settings (seeds 000 / 001); `roistat`,
`ringostat` and `calltouch` turn raw rows (roistat-ringostat.md A6, B2; calltouch-amocrm.md A4, A5) into
conversions under those rules. Each is imported by name: a function that works one vendor (an extraction,
a backfill) loads that vendor's rules only.
"""
