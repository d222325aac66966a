"""The check of a vendor's credentials before anything is saved.

A check answers what the key can see, so the user picks a vendor project or account from a list:
Roistat projects by name; Ringostat accounts by number only (seed 001: names are not passed by
the API); the Calltouch site id the token opens; the amoCRM account the authorization code opens.
Each vendor's module says how (`spec_for(vendor).check`).
"""

from __future__ import annotations

from typing import Any

from leadhub.connectors.registry import spec_for
from leadhub.models.credentials import VendorCredentials, Verified
from leadhub.models.settings import Vendor


def parse_credentials(vendor: Vendor, raw: Any) -> VendorCredentials:
    return spec_for(vendor).credentials.model_validate(raw)


def verify(vendor: Vendor, credentials: VendorCredentials) -> Verified:
    """Ask the vendor whether the credentials work; raises the vendor's ConfigError if not."""
    return spec_for(vendor).check(credentials.secret_values())
