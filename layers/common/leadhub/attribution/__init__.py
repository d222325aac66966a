"""Normalisation and attribution: vendor rows in, `Conversion`s out, with no I/O.

`rules.AttributionRules` is built once from a connector's settings (seeds 000 / 001); `roistat` and
`ringostat` turn raw rows (roistat-ringostat.md A6, B2) into conversions under those rules.
"""

from leadhub.attribution import ringostat, roistat
from leadhub.attribution.rules import NOT_COUNTED, PLACEHOLDER, AttributionRules

__all__ = ["NOT_COUNTED", "PLACEHOLDER", "AttributionRules", "ringostat", "roistat"]
