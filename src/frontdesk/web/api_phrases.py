"""REST for quick phrases and the spell check of the operator's input (issue 9)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from frontdesk.actions import phrases, spelling
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import current_operator
from frontdesk.web.errors import API_ERRORS

router = APIRouter(prefix="/api/v1", tags=["phrases"], responses=API_ERRORS)
Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
CSV_MAX = 2_000_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhraseIn(Strict):
    key: str = Field("", max_length=64)
    title: str = Field("", max_length=400)
    text: str = Field(max_length=10_000)
    group: str = Field("", max_length=200)


class NewPhraseIn(PhraseIn):
    scope: str = Field("personal", pattern="^(personal|site)$")
    site_id: Id | None = None


class UseIn(Strict):
    conversation_id: Id


class HotkeyIn(Strict):
    phrase_id: Id | None


class ImportIn(Strict):
    scope: str = Field("personal", pattern="^(personal|site)$")
    site_id: Id | None = None
    csv: str = Field(max_length=CSV_MAX)


class SpellIn(Strict):
    text: str = Field(max_length=spelling.MAX_CHECK_CHARS)
    conversation_id: Id | None = None


class WordIn(Strict):
    word: str = Field(max_length=200)
    scope: str = Field("personal", pattern="^(personal|site)$")
    site_id: Id | None = None


@router.get("/phrases")
async def list_phrases(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return await phrases.list_phrases(request.app.state.rt, op)


@router.post("/phrases", status_code=201)
async def create_phrase(body: NewPhraseIn, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    data = body.model_dump(include={"key", "title", "text", "group"})
    return {"phrase": await phrases.create_phrase(request.app.state.rt, op, data, body.scope, body.site_id)}


@router.get("/phrases/search")
async def search_phrases(request: Request, conversation_id: str, q: str = Query("", max_length=200),
                         op: OperatorRef = Depends(current_operator)) -> dict:
    return {"phrases": await phrases.search(request.app.state.rt, op, conversation_id, q)}


@router.get("/phrases/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "the phrases as CSV (UTF-8)"}})
async def export_phrases(request: Request, scope: str = Query("personal", pattern="^(personal|site)$"),
                         site_id: str | None = None, op: OperatorRef = Depends(current_operator)) -> Response:
    text = await phrases.export_csv(request.app.state.rt, op, scope, site_id)
    name = "phrases.csv" if scope == "personal" else f"phrases-site-{site_id}.csv"
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/phrases/import")
async def import_phrases(body: ImportIn, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return await phrases.import_csv(request.app.state.rt, op, body.csv.encode("utf-8"), body.scope, body.site_id)


class PhraseSettingsIn(Strict):
    spell_warn: StrictBool


@router.get("/phrases/settings")
async def phrase_settings(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """The operator's composer settings: ``{settings: {spell_warn}}``."""
    return await phrases.get_settings(request.app.state.rt, op)


@router.put("/phrases/settings")
async def set_phrase_settings(body: PhraseSettingsIn, request: Request,
                              op: OperatorRef = Depends(current_operator)) -> dict:
    """The operator's composer settings: ``{spell_warn}`` (ask before sending unknown words)."""
    return await phrases.set_settings(request.app.state.rt, op, spell_warn=body.spell_warn)


@router.put("/phrases/hotkeys/{digit}")
async def set_hotkey(digit: int, body: HotkeyIn, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return await phrases.set_hotkey(request.app.state.rt, op, digit, body.phrase_id)


@router.patch("/phrases/{phrase_id:int}")
async def update_phrase(phrase_id: int, body: PhraseIn, request: Request,
                        op: OperatorRef = Depends(current_operator)) -> dict:
    return {"phrase": await phrases.update_phrase(request.app.state.rt, op, phrase_id, body.model_dump())}


@router.delete("/phrases/{phrase_id:int}")
async def delete_phrase(phrase_id: int, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    await phrases.delete_phrase(request.app.state.rt, op, phrase_id)
    return {"ok": True}


@router.post("/phrases/{phrase_id:int}/use")
async def use_phrase(phrase_id: int, body: UseIn, request: Request,
                     op: OperatorRef = Depends(current_operator)) -> dict:
    return {"phrase": await phrases.use_phrase(request.app.state.rt, op, phrase_id, body.conversation_id)}


@router.post("/spellcheck")
async def spellcheck(body: SpellIn, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return await spelling.check(request.app.state.rt, op, body.text, body.conversation_id)


@router.get("/dictionary")
async def list_words(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return await spelling.list_words(request.app.state.rt, op)


@router.post("/dictionary", status_code=201)
async def add_word(body: WordIn, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"word": await spelling.add_word(request.app.state.rt, op, body.word, body.scope, body.site_id)}


@router.delete("/dictionary/{word_id}")
async def remove_word(word_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    await spelling.remove_word(request.app.state.rt, op, word_id)
    return {"ok": True}
