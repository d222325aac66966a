"""The embedded local stack: moto's server as AWS, the vendor simulators, the HTTP API."""

import sys
from pathlib import Path

# `python -m devstack` and `python -m devstack.admin` work without make's PYTHONPATH too
ROOT = Path(__file__).resolve().parent.parent
for _folder in ("functions", "layers/common", "."):
    if str(ROOT / _folder) not in sys.path:
        sys.path.insert(0, str(ROOT / _folder))
