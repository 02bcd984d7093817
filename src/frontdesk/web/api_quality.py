"""REST of the quality coach (docs/quality.md) and of transcripts/export (docs/reports.md)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from frontdesk.actions import coach, transcripts
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import current_operator
from frontdesk.web.errors import API_ERRORS

router = APIRouter(prefix="/api/v1", tags=["quality"], responses=API_ERRORS)


class QualitySettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_reply_seconds: int | None = None
    silence_minutes: int | None = None
    weights: dict[str, float] | None = Field(None, max_length=32)


class TranscriptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(None, max_length=320)


@router.get("/conversations/{conversation_id}/quality")
async def conversation_quality(conversation_id: str, request: Request,
                               op: OperatorRef = Depends(current_operator)) -> dict:
    """The coach's score of a closed conversation, each criterion with the messages that triggered it."""
    return await coach.conversation_quality(request.app.state.rt, op, conversation_id)


@router.post("/conversations/{conversation_id}/transcript")
async def send_transcript(conversation_id: str, request: Request, body: TranscriptIn | None = None,
                          op: OperatorRef = Depends(current_operator)) -> dict:
    """E-mail the transcript to the visitor (through the outbox)."""
    return await transcripts.send_transcript(request.app.state.rt, op, conversation_id,
                                             body.email if body else None)


@router.get("/quality/{site_id}")
async def site_quality(site_id: str, request: Request, op: OperatorRef = Depends(current_operator),
                       to: str = "") -> dict:
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``: per operator aggregates, best and worst examples."""
    return await coach.site_quality(request.app.state.rt, op, site_id, request.query_params.get("from", ""), to)


@router.get("/quality/{site_id}/settings")
async def quality_settings(site_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return await coach.get_settings(request.app.state.rt, op, site_id)


@router.put("/quality/{site_id}/settings")
async def set_quality_settings(site_id: str, body: QualitySettingsIn, request: Request,
                               op: OperatorRef = Depends(current_operator)) -> dict:
    """Admins: the site's criteria weights (0..10) and limits."""
    return await coach.set_settings(request.app.state.rt, op, site_id, body.model_dump(exclude_none=True))


@router.get("/export/{site_id}", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}},
                             "description": "the conversations of the period, JSON Lines or CSV"}})
async def export(site_id: str, request: Request, op: OperatorRef = Depends(current_operator), to: str = "",
                 format: str = "jsonl") -> StreamingResponse:
    """``?from=&to=&format=jsonl|csv``: the conversations started in the period with their messages."""
    name, chunks = await transcripts.export_period(request.app.state.rt, op, site_id,
                                                   request.query_params.get("from", ""), to, format)
    media = "text/csv; charset=utf-8" if name.endswith(".csv") else "application/x-ndjson; charset=utf-8"
    return StreamingResponse(chunks, media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
