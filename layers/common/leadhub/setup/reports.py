"""Reports of a project: the aggregate as JSON, or as an XLSX behind an expiring link."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from leadhub.reports.conversions import Report, ReportQuery, conversion_report
from leadhub.reports.xlsx import report_xlsx
from leadhub.settings import get_settings
from leadhub.setup.projects import Projects
from leadhub.setup.static_channels import XLSX, Link, expiry
from leadhub.store.objects import ObjectStore


def project_report(account_id: str, project_id: str, query: ReportQuery) -> Report:
    Projects().get(account_id, project_id)  # NotFound for another account's project
    return conversion_report(project_id, query)


def project_report_file(account_id: str, project_id: str, query: ReportQuery) -> Link:
    project = Projects().get(account_id, project_id)
    report = conversion_report(project_id, query)
    data = report_xlsx(report, project_name=project.name)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    filename = f"conversions-{query.date_from}-{query.date_to}-{stamp}.xlsx"
    key = f"exports/{account_id}/{project_id}/{uuid.uuid4().hex}/{filename}"
    objects = ObjectStore()
    objects.put(key, data, content_type=XLSX)
    ttl = get_settings().presigned_url_ttl_seconds
    url = objects.download_url(key, filename=filename, expires_in=ttl)
    return Link(url=url, expires_at=expiry(ttl), filename=filename, rows=len(report.rows))
