"""REST for the reports page: statistics of a site over a period, and their CSV (docs/reports.md)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from frontdesk.actions import reports
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import current_operator
from frontdesk.web.errors import API_ERRORS

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=API_ERRORS)


@router.get("/sites")
async def report_sites(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """The sites whose reports this operator may see (admins: all), with their time zones."""
    return {"sites": await reports.report_sites(request.app.state.rt, op)}


@router.get("/{site_id}")
async def site_report(site_id: str, request: Request, op: OperatorRef = Depends(current_operator),
                      to: str = "") -> dict:
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (local dates of the site, ``to`` exclusive)."""
    return await reports.site_report(request.app.state.rt, op, site_id,
                                     request.query_params.get("from", ""), to)


@router.get("/{site_id}/{table}.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one table as CSV (UTF-8 with BOM)"}})
async def site_report_csv(site_id: str, table: str, request: Request, op: OperatorRef = Depends(current_operator),
                          to: str = "") -> Response:
    name, body = await reports.site_report_csv(request.app.state.rt, op, site_id,
                                               request.query_params.get("from", ""), to, table)
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
