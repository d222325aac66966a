from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from leadhub.api.auth import current_account
from leadhub.exports.links import Link
from leadhub.models.conversion import Kind
from leadhub.reports.conversions import Report, ReportQuery
from leadhub.setup.reports import project_report, project_report_file

router = Router()

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Tags = ["reports"]


@router.get(
    "/projects/<project_id>/conversions",
    summary="Conversions counted by source / traffic type / campaign (or other dimensions)",
    tags=Tags,
)
def conversions(
    project_id: Id,
    date_from: Annotated[date, Query(alias="from")],
    date_to: Annotated[date, Query(alias="to")],
    group_by: Annotated[str, Query(max_length=200)] = "source,traffic_type,campaign",
    kind: Annotated[Kind | None, Query()] = None,
) -> Report:
    query = ReportQuery.model_validate({"from": date_from, "to": date_to, "group_by": group_by, "kind": kind})
    return project_report(current_account(router), project_id, query)


@router.post(
    "/projects/<project_id>/reports/conversions",
    summary="The conversions report as an XLSX with a chart, through a link that expires",
    tags=Tags,
)
def conversions_file(project_id: Id, query: Annotated[ReportQuery, Body()]) -> Link:
    return project_report_file(current_account(router), project_id, query)
