"""Reports of a project: the aggregate as JSON, or as an XLSX behind an expiring link."""

from __future__ import annotations

from leadhub.exports.links import Link, publish_xlsx
from leadhub.reports.conversions import Report, ReportQuery, conversion_report
from leadhub.reports.xlsx import report_xlsx
from leadhub.setup.projects import Projects


def project_report(account_id: str, project_id: str, query: ReportQuery) -> Report:
    Projects().get(account_id, project_id)  # NotFound for another account's project
    return conversion_report(project_id, query)


def project_report_file(account_id: str, project_id: str, query: ReportQuery) -> Link:
    project = Projects().get(account_id, project_id)
    report = conversion_report(project_id, query)
    return publish_xlsx(
        report_xlsx(report, project_name=project.name),
        owner=f"{account_id}/{project_id}",
        name=f"conversions-{query.date_from}-{query.date_to}",
        rows=len(report.rows),
    )
