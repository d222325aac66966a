"""Calltouch plan import (seed 004): validation, the XLSX template and result, and the sending job."""
