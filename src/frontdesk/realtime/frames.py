"""Every frame of both sockets, defined once (docs/protocol.md § Visitor socket, § Operator socket).

Inbound frames are ``msgspec`` structs tagged by ``type``: decoding a frame *is*
validating it. What decoding refuses, and with which error code:

* not JSON → ``invalid_json``; JSON that is not an object, a missing or ill-typed
  field, a number out of range → ``invalid_frame``; an unknown ``type`` → ``unknown_type``;
* a string that is not well-formed Unicode (a lone surrogate such as ``"\\ud800"``,
  which JSON escapes can express but UTF-8 cannot) → ``invalid_text``. Such a string
  never gets past this module: it would fail to encode later, on another person's
  socket or inside a shared write transaction.

Every refusal echoes the frame's ``ref`` (or ``client_id``) when that field itself
was well-formed. Outbound frames are declared as ``TypedDict``s below so that the
documentation test (tests/test_docs.py) can hold docs/protocol.md against them.
"""
from __future__ import annotations

import json
import typing
from typing import Annotated, Any, Literal, TypedDict

import msgspec

from frontdesk.realtime.protocol import FrameError

MAX_ID = 2**63 - 1
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
Ref = Annotated[str, msgspec.Meta(max_length=64)] | Annotated[int, msgspec.Meta(ge=-MAX_ID, le=MAX_ID)] | None
ShortText = Annotated[str, msgspec.Meta(max_length=16_384)]


class _Frame(msgspec.Struct, tag_field="type", kw_only=True):
    ref: Ref = None


class Page(msgspec.Struct):
    url: Annotated[str, msgspec.Meta(max_length=8192)] | None = None
    title: ShortText | None = None
    referrer: Annotated[str, msgspec.Meta(max_length=8192)] | None = None


# --- client → server, both sockets ------------------------------------------------

class Ping(_Frame, tag="ping"):
    t: Any = None


class Pong(_Frame, tag="pong"):
    t: Any = None


class Sync(_Frame, tag="sync"):
    conversation_id: Id
    after_seq: Seq = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)] = 200


class Read(_Frame, tag="read"):
    conversation_id: Id
    seq: Seq


# --- client → server, visitor socket ----------------------------------------------

class VisitorHello(_Frame, tag="hello"):
    visitor_token: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    # conversation id (a string key) → last seq held; malformed entries are dropped
    resume: dict[Annotated[str, msgspec.Meta(max_length=32)], Any] | None = None
    page: Page | None = None
    lang: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class Invite(msgspec.Struct):
    """The invitation the visitor answers (a rule's or a manual one): its first message opens a
    proactive conversation (docs/invitations.md)."""
    rule_id: Id | None = None
    manual_id: Id | None = None


class VisitorSend(_Frame, tag="message.send"):
    client_id: Annotated[str, msgspec.Meta(max_length=256)]
    text: str
    invite: Invite | None = None


class VisitorTyping(_Frame, tag="typing"):
    text: str = ""


class PageView(_Frame, tag="page"):
    url: Annotated[str, msgspec.Meta(max_length=8192)]
    title: ShortText | None = None


class Contacts(_Frame, tag="contacts"):
    email: ShortText | None = None
    phone: ShortText | None = None
    name: ShortText | None = None


class EndConversation(_Frame, tag="conversation.end"):
    conversation_id: Id


class Rate(_Frame, tag="conversation.rate"):
    conversation_id: Id
    value: int
    comment: Annotated[str, msgspec.Meta(max_length=16_384)] | None = None


class ChooseDepartment(_Frame, tag="department.choose"):
    department_id: Id


# --- client → server, operator socket ---------------------------------------------

class OperatorHello(_Frame, tag="hello"):
    resume: dict[Annotated[str, msgspec.Meta(max_length=32)], Any] | None = None


class OperatorSend(_Frame, tag="message.send"):
    conversation_id: Id
    client_id: Annotated[str, msgspec.Meta(max_length=256)]
    text: str
    kind: Literal["operator", "note"] = "operator"


class OperatorTyping(_Frame, tag="typing"):
    conversation_id: Id
    is_typing: bool = False


class Take(_Frame, tag="conversation.take"):
    conversation_id: Id
    force: bool = False  # take a conversation another operator holds (after a confirmation)


class View(_Frame, tag="conversation.view"):
    conversation_id: Id | None = None  # the conversation this tab shows now; null: none


class Close(_Frame, tag="conversation.close"):
    conversation_id: Id


class Reopen(_Frame, tag="conversation.reopen"):
    conversation_id: Id


class StatusSet(_Frame, tag="status.set"):
    status: Literal["online", "away", "offline"]


VisitorFrame = (VisitorHello | VisitorSend | VisitorTyping | PageView | Sync | Read | Contacts | EndConversation | Rate
                | Ping | Pong | ChooseDepartment)
OperatorFrame = (OperatorHello | OperatorSend | OperatorTyping | Take | Close | Reopen | StatusSet | View | Sync
                 | Read | Ping | Pong)

VISITOR_CLIENT_FRAMES = {c.__struct_config__.tag: c for c in typing.get_args(VisitorFrame)}
OPERATOR_CLIENT_FRAMES = {c.__struct_config__.tag: c for c in typing.get_args(OperatorFrame)}

_visitor_decoder = msgspec.json.Decoder(VisitorFrame)
_operator_decoder = msgspec.json.Decoder(OperatorFrame)


def decode_visitor(raw: str | bytes) -> VisitorFrame:
    return _decode(_visitor_decoder, raw)


def decode_operator(raw: str | bytes) -> OperatorFrame:
    return _decode(_operator_decoder, raw)


def _decode(decoder: msgspec.json.Decoder, raw: str | bytes):  # noqa: ANN202 - the decoder's union
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        message = str(exc)
        loose = _loose(raw)
        code = "unknown_type" if message.startswith("Invalid value") and message.endswith("`$.type`") \
            else "invalid_frame"
        if code == "unknown_type":
            message = f"unknown frame type {str(loose.get('type'))[:40]!r}"
        elif message.endswith("`$.conversation_id`"):
            # an ill-typed or out-of-range id gets the answer of an id that is not yours
            code, message = "not_found", "conversation not found"
        raise FrameError(code, message, _clean_ref(loose)) from None
    except (msgspec.DecodeError, RecursionError):
        # msgspec refuses both malformed JSON and lone surrogates; the standard parser tells them apart
        try:
            loose = json.loads(raw)
        except (ValueError, RecursionError):
            raise FrameError("invalid_json", "frame is not valid JSON") from None
        ref = _clean_ref(loose) if isinstance(loose, dict) else None
        raise FrameError("invalid_text", "a string in the frame is not well-formed Unicode "
                                         "(lone surrogate)", ref) from None


def _loose(raw: str | bytes) -> dict:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _clean_ref(frame: dict) -> str | int | None:
    """The ``ref`` (else ``client_id``) to echo, only if it is itself well-formed."""
    for name in ("ref", "client_id"):
        value = frame.get(name)
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and -MAX_ID <= value <= MAX_ID:
            return value
        if isinstance(value, str) and len(value) <= 64 and well_formed(value):
            return value
    return None


def well_formed(text: str) -> bool:
    """True when ``text`` has no lone surrogates (it can be encoded as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def ref_of(frame: object) -> str | int | None:
    ref = getattr(frame, "ref", None)
    if ref is None:
        ref = getattr(frame, "client_id", None)
    return ref


def parse_resume(value: dict[str, Any] | None) -> dict[int, int]:
    """{"41": 17} → {41: 17}. Keys must be ASCII digits of a valid id, values valid seqs;
    anything else is dropped (and answered as ``not_found`` when it named a conversation)."""
    out: dict[int, int] = {}
    if not value:
        return out
    for k, v in list(value.items())[:200]:
        if not (k.isascii() and k.isdigit()) or len(k) > 19:
            continue
        cid = int(k)
        if not 1 <= cid <= MAX_ID or isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_ID:
            continue
        out[cid] = v
    return out


# --- server → client (declared for the documentation test and for readers) ----------

class ErrorFrame(TypedDict, total=False):
    type: Literal["error"]
    code: str
    message: str
    ref: str | int


# Which frames each socket receives. The values name the protocol.md section that documents them.
VISITOR_SERVER_FRAMES = frozenset({
    "welcome", "message.ack", "message.created", "conversation.created", "conversation.assigned",
    "conversation.closed", "conversation.reopened", "operator.typing", "availability", "contacts.saved",
    "rating.saved", "sync.result", "reset", "ping", "pong", "error",
    "invitation",
    "department.chosen", "queue.position",
})
OPERATOR_SERVER_FRAMES = frozenset({
    "welcome", "message.ack", "message.created", "conversation.created", "conversation.offered",
    "conversation.assigned", "conversation.closed", "conversation.reopened", "conversation.updated",
    "visitor.typing", "operator.status_changed", "conversation.rated", "action.result", "sync.result", "reset",
    "ping", "pong", "error", "visitor.updated", "operator.typing", "operator.viewing", "transfer.offered",
    "transfer.ended",
    "conversation.escalated",
    "ban.changed",
})
