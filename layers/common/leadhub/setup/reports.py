"""Reports of a project: the aggregate as JSON, or as an XLSX behind an expiring link."""

from __future__ import annotations

from leadhub.exports.links import Link, publish_xlsx
from leadhub.reports.conversions import Report, ReportQuery, conversion_report
from leadhub.setup.connectors import Connectors
from leadhub.setup.projects import Projects
from leadhub.setup.status import report_coverage
from leadhub.store.connectors import ConnectorStore


def project_report(account_id: str, project_id: str, query: ReportQuery) -> Report:
    project = Projects().get(account_id, project_id)  # NotFound for another account's project
    return _covered_report(account_id, project.id, project.timezone, query)


def _covered_report(account_id: str, project_id: str, zone: str, query: ReportQuery) -> Report:
    """The report over what counts now (no deleted connector, no switched-off stream), saying which
    days are not loaded yet and which connectors are deactivated."""
    connectors = ConnectorStore().list_connectors(account_id, project_id)
    coverage = report_coverage(connectors, query.date_from, query.date_to, project_zone=zone)
    report = _named(account_id, conversion_report(project_id, query, visible=coverage.visible))
    return report.model_copy(
        update={
            "partial": bool(coverage.missing),
            "missing_days": coverage.missing,
            "inactive_connectors": coverage.inactive,
        }
    )


def project_report_file(account_id: str, project_id: str, query: ReportQuery) -> Link:
    from leadhub.reports.xlsx import report_xlsx  # openpyxl: loaded by the one route that writes a workbook

    project = Projects().get(account_id, project_id)
    report = _covered_report(account_id, project.id, project.timezone, query)
    return publish_xlsx(
        report_xlsx(report, project_name=project.name),
        owner=f"{account_id}/{project_id}",
        name=f"conversions-{query.date_from}-{query.date_to}",
        rows=len(report.rows),
    )


def _named(account_id: str, report: Report) -> Report:
    """The report with its connectors' names and seed 001's warning about KPI delivered twice."""
    views = {view.id: view for view in Connectors().list(account_id, report.project_id)}
    connectors = [
        measures.model_copy(update={"name": views[measures.connector_id].name})
        if measures.connector_id in views
        else measures
        for measures in report.connectors
    ]
    reported = {measures.connector_id for measures in report.connectors}
    warnings = [warning for cid in sorted(reported & views.keys()) for warning in views[cid].warnings]
    return report.model_copy(update={"connectors": connectors, "warnings": list(dict.fromkeys(warnings))})
