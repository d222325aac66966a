from __future__ import annotations

from datetime import date
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from leadhub.api.auth import current_account
from leadhub.api.contract import JSON_BODY, operation
from leadhub.api.routers.ids import id_path
from leadhub.exports.links import Link
from leadhub.models.conversion import Kind
from leadhub.reports.conversions import (
    DEFAULT_GROUP_BY,
    FROM_DESCRIPTION,
    GROUP_BY_DESCRIPTION,
    GROUP_BY_LIST,
    MEASURES_DESCRIPTION,
    TO_DESCRIPTION,
    Report,
    ReportQuery,
)
from leadhub.setup.reports import project_report, project_report_file

router = Router()

ProjectId = Annotated[str, id_path("The project's id, as `POST /projects` answered it.")]
Tags = ["reports"]


@router.get(
    "/projects/<project_id>/conversions",
    tags=Tags,
    **operation(
        "Inquiries, deals, revenue and forecast revenue by source / traffic type / campaign (or other dimensions)",
        "Measures the project's conversions of every connector per combination of the `group_by` dimensions; the "
        f"days are the project's time zone's. {MEASURES_DESCRIPTION} Rows come by date when grouped by date, then "
        "most inquiries first; `connectors` gives the same measures per connector, and `warnings` names "
        "connectors that deliver the same KPI twice.",
        errors=(HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY),
    ),
)
def conversions(
    project_id: ProjectId,
    date_from: Annotated[date, Query(alias="from", description=FROM_DESCRIPTION)],
    date_to: Annotated[date, Query(alias="to", description=TO_DESCRIPTION)],
    group_by: Annotated[
        str,
        Query(
            max_length=200,
            pattern=GROUP_BY_LIST,
            description=f"{GROUP_BY_DESCRIPTION}. Separated by commas.",
        ),
    ] = ",".join(DEFAULT_GROUP_BY),
    kind: Annotated[Kind | None, Query(description="Count only conversions of this kind.")] = None,
) -> Report:
    query = ReportQuery.model_validate({"from": date_from, "to": date_to, "group_by": group_by, "kind": kind})
    return project_report(current_account(router), project_id, query)


@router.post(
    "/projects/<project_id>/reports/conversions",
    tags=Tags,
    **operation(
        "The conversions report as an XLSX with a chart",
        "The same report as `GET …/conversions`, as a spreadsheet a marketer reads and prints: the UI's column "
        "headers, Russian names for codes (`call` «Звонок»), dates as dates, a chart (a line over the days when "
        "grouped by date, else bars of every row or the top ones, said so), A4 landscape fitted to the page "
        "width; behind a link that expires.",
        errors=(*JSON_BODY, HTTPStatus.NOT_FOUND),
    ),
)
def conversions_file(project_id: ProjectId, query: Annotated[ReportQuery, Body()]) -> Link:
    return project_report_file(current_account(router), project_id, query)
