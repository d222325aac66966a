"""The architecture, executable: every import of the project's code is read (ast) and checked.

- boto3 and botocore are imported in `leadhub/store/` only;
- the simulators import nothing of Leadhub (they stand in for vendors that know nothing of it);
- `leadhub/attribution/` imports nothing of Leadhub but `leadhub.models`;
- an import from one of Leadhub's top-level packages into another follows ALLOWED_IMPORTS.

Imports inside functions and under TYPE_CHECKING count: they are dependencies all the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common"
SCANNED = [LAYER / "leadhub", ROOT / "functions", ROOT / "simulators", ROOT / "devstack", ROOT / "benchmarks"]

AWS_SDK = {"boto3", "botocore"}
#: What every package may use: configuration, logging, redaction, the clock, the shared errors, the
#: domain models and JSON Lines framing.
FOUNDATION = {"leadhub", "settings", "redaction", "observability", "models", "clock", "errors", "jsonl"}

#: Leadhub's top-level packages (and modules) and what each may import besides itself. Outer layers
#: (api, admin) may import inner ones, never the other way; nothing imports api. A package missing here
#: fails the test: say where it sits before it lands.
ALLOWED_IMPORTS: dict[str, set[str]] = {
    "leadhub": set(),
    "settings": set(),
    "redaction": set(),
    "observability": {"redaction"},
    "models": set(),
    "clock": set(),
    "errors": set(),
    "jsonl": set(),
    "store": FOUNDATION,
    "vendors": FOUNDATION,
    "attribution": {"models"},
    # One module per vendor: its credentials, settings, streams, check and client factory. A vendor
    # module builds its streams with the engine's reading toolkit (StreamReader, RangePrefetch,
    # FirstContacts), and the engine finds a vendor's streams through the registry.
    "connectors": FOUNDATION | {"vendors", "attribution", "extract"},
    "exports": FOUNDATION | {"store", "connectors"},
    "reports": FOUNDATION | {"store", "exports", "connectors"},
    # What a vendor counts per source IP, shared by every sender (extraction, plan imports).
    "egress": FOUNDATION | {"store", "vendors"},
    "extract": FOUNDATION | {"store", "vendors", "attribution", "connectors", "crm_sync", "egress"},
    # The amoCRM lead sync: fed by extraction (a day's inquiries), shown by the API.
    "crm_sync": FOUNDATION | {"store", "vendors", "connectors"},
    # Long-running connector work: runs the kinds extract implements, plans backfills from settings.
    "jobs": FOUNDATION | {"store", "connectors", "extract"},
    # setup starts an extraction on demand (POST /connectors/{id}/sync) and shows jobs in the status; it
    # checks an amoCRM connector's lead-sync choices against the account when they are saved.
    "setup": FOUNDATION | {"store", "vendors", "connectors", "exports", "reports", "extract", "jobs", "crm_sync"},
    "api": FOUNDATION
    | {
        "store",
        "vendors",
        "connectors",
        "exports",
        "reports",
        "extract",
        "setup",
        "jobs",
        "roistat_crm",
        "crm_sync",
        "plans",
    },
    # The Roistat custom-CRM export: Leadhub's own records, served as the page Roistat pulls.
    "roistat_crm": FOUNDATION | {"store"},
    # Calltouch plan imports: checks, sheets, and the sending job (started through jobs.dispatch).
    "plans": FOUNDATION | {"store", "vendors", "exports", "jobs", "egress"},
    # The accounts-and-tokens CLI: an entry point beside the API, not under it.
    "admin": FOUNDATION | {"store", "setup"},
}

#: Edges that break ALLOWED_IMPORTS but are tolerated for now, as (importing module, imported module).
#: Empty: keep it so. The test fails when an entry is no longer needed, so the list can only shrink.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    importer: str
    imported: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} ({self.importer}) imports {self.imported}"


def module_name(path: Path) -> str:
    base = LAYER if path.is_relative_to(LAYER) else ROOT
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def exists_as_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return any(
        (base / relative).with_suffix(".py").is_file() or (base / relative / "__init__.py").is_file()
        for base in (LAYER, ROOT)
    )


def imports_of(path: Path) -> Iterator[Import]:
    importer = module_name(path)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, importer, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                # `from leadhub import settings` imports the module leadhub.settings
                submodule = f"{module}.{alias.name}"
                yield Import(path, node.lineno, importer, submodule if exists_as_module(submodule) else module)


def all_imports() -> list[Import]:
    return [found for root in SCANNED for path in sorted(root.rglob("*.py")) for found in imports_of(path)]


def top_level(module: str) -> str:
    """`leadhub.setup.errors` → `setup`; the package itself → `leadhub`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def broken_rule(edge: Import) -> str | None:
    """The rule this import breaks, or None."""
    importer_root, imported_root = edge.importer.split(".")[0], edge.imported.split(".")[0]
    if imported_root in AWS_SDK and not edge.importer.startswith("leadhub.store"):
        return "only leadhub/store/ talks to AWS (boto3, botocore)"
    if importer_root == "simulators" and imported_root in {"leadhub", "devstack"}:
        return "simulators import nothing of Leadhub: they are the vendors, and vendors do not know Leadhub"
    if importer_root != "leadhub" or imported_root != "leadhub":
        return None
    source, target = top_level(edge.importer), top_level(edge.imported)
    if source == target:
        return None
    if source == "attribution" and target not in ALLOWED_IMPORTS["attribution"]:
        return "attribution is pure: it imports leadhub.models and nothing else of Leadhub"
    if source not in ALLOWED_IMPORTS:
        return f"leadhub.{source} is not in ALLOWED_IMPORTS: add it with what it may import"
    if target not in ALLOWED_IMPORTS[source]:
        allowed = ", ".join(sorted(ALLOWED_IMPORTS[source])) or "nothing of Leadhub"
        return f"leadhub.{source} may import {allowed} (ALLOWED_IMPORTS); not leadhub.{target}"
    return None


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return all_imports()


def test_every_import_follows_the_architecture(imports: list[Import]) -> None:
    broken = [
        f"{edge}: {rule}"
        for edge in imports
        if (rule := broken_rule(edge)) and (edge.importer, edge.imported) not in KNOWN_VIOLATIONS
    ]
    assert not broken, "\n".join(broken)


def test_known_violations_are_still_violations(imports: list[Import]) -> None:
    """An entry that no longer breaks a rule (fixed, or moved) must leave the list, so it only shrinks."""
    still = {(edge.importer, edge.imported) for edge in imports if broken_rule(edge)}
    stale = sorted(KNOWN_VIOLATIONS - still)
    assert not stale, "\n".join(
        f"{importer} → {imported}: fixed, remove it from KNOWN_VIOLATIONS" for importer, imported in stale
    )


def test_the_rules_catch_what_they_forbid() -> None:
    """The checker itself: each rule fires on an edge it forbids and stays quiet on one it allows."""

    def rule(importer: str, imported: str) -> str | None:
        return broken_rule(Import(ROOT / "x.py", 1, importer, imported))

    assert rule("leadhub.setup.connectors", "boto3") is not None
    assert rule("leadhub.store.aws", "botocore.config") is None
    assert rule("simulators.roistat", "leadhub.models.settings") is not None
    assert rule("leadhub.attribution.rules", "leadhub.settings") is not None
    assert rule("leadhub.attribution.rules", "leadhub.models.settings") is None
    assert rule("leadhub.extract.run", "leadhub.setup.errors") is not None
    assert rule("leadhub.store.tables", "leadhub.api.app") is not None
    assert rule("leadhub.newpackage.x", "leadhub.models") is not None
    assert rule("leadhub.api.routers.connectors", "leadhub.setup.connectors") is None


def test_the_scan_sees_the_whole_project(imports: list[Import]) -> None:
    importers = {edge.importer for edge in imports}
    assert {"leadhub.store.aws", "leadhub.attribution.rules", "simulators.base", "functions.api.app"} <= importers
    assert any(edge.imported == "boto3" for edge in imports)
