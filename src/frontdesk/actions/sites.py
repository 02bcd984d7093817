"""Sites: create, change, widget settings, allowed origins."""
from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import serialize
from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_email, check_id, check_name
from frontdesk.models import Site

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

RATING_SCALES = ("stars", "thumbs")
PROFANITY_MODES = ("off", "flag", "mask")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
TEXT_KEYS = ("title", "subtitle", "greeting", "placeholder", "offline_title", "offline_text", "launcher",
             *("ask", "ask_online", "hold", "hold_online", "auto_hold"))
# The holding phrases (issue 9): sent by the server, never needed by the widget itself, so they are
# left out of the public widget config (``public_widget``). ask*/hold*: the no-reply holding message
# (actions/no_reply.py) without / with known contacts, "_online" when an operator of the site is
# online; auto_hold: the line sent on the operator's behalf after ``auto_hold_seconds`` of silence.
HOLDING_KEYS = ("ask", "ask_online", "hold", "hold_online", "auto_hold")
AUTO_HOLD_MAX_SECONDS = 3600
DEFAULT_WIDGET = {
    "color": "#1f6feb",
    "position": "right",
    "language": "auto",  # ru | en | auto (the visitor's browser)
    "show_operator": True,
    "rating": "stars",  # what the widget asks after a closed chat: stars (1..5) | thumbs (down = 1, up = 5)
    "transcript": True,  # the visitor may e-mail itself the transcript from the widget (actions/transcripts.py)
    # seconds of the assignee's silence before the automatic holding line; 0 = off (actions/no_reply.py)
    "auto_hold_seconds": 0,
    # window behaviour (docs/invitations.md): seconds before the launcher appears on a page, seconds
    # on a page before the window opens by itself (0 = never; once per browser session)
    "launcher_delay": 0,
    "auto_open_delay": 0,
    # visitor messages in the operator's view (docs/moderation.md): off | flag (marked) | mask (bad words masked);
    # not part of the public widget config
    "profanity": "off",
    "texts": {
        "ru": {"title": "Онлайн-консультант", "subtitle": "Обычно отвечаем за минуту",
               "greeting": "Здравствуйте! Чем можем помочь?", "placeholder": "Напишите сообщение…",
               "offline_title": "Сейчас нас нет в сети",
               "offline_text": "Оставьте сообщение — мы ответим на e‑mail.", "launcher": "",
               "ask": "Спасибо за ваше сообщение! Сейчас операторов нет на связи. Оставьте, пожалуйста, e-mail или "
                      "телефон — мы ответим вам, как только сможем, даже если вы закроете страницу.",
               "ask_online": "Спасибо за ваше сообщение! Оператор скоро ответит. Оставьте, пожалуйста, e-mail или "
                             "телефон, чтобы ответ дошёл до вас, даже если вы закроете страницу.",
               "hold": "Спасибо за ваше сообщение! Сейчас операторов нет на связи — мы ответим вам, как только "
                       "сможем.",
               "hold_online": "Спасибо за ваше сообщение! Оператор скоро ответит, оставайтесь, пожалуйста, на связи.",
               "auto_hold": "Одну минуточку, уточняю…"},
        "en": {"title": "Chat with us", "subtitle": "We usually reply within a minute",
               "greeting": "Hello! How can we help?", "placeholder": "Type a message…",
               "offline_title": "We are offline right now",
               "offline_text": "Leave a message and we will reply by e‑mail.", "launcher": "",
               "ask": "Thank you for your message! No operator is available right now. Please leave your e-mail "
                      "or phone number and we will get back to you as soon as we can, even if you close this page.",
               "ask_online": "Thank you for your message! An operator will answer shortly. Please leave your e-mail "
                             "or phone number so that the answer reaches you even if you close this page.",
               "hold": "Thank you for your message! No operator is available right now — we will get back to you "
                       "as soon as we can.",
               "hold_online": "Thank you for your message! An operator will answer shortly, please stay with us.",
               "auto_hold": "One moment, let me check…"},
    },
}


def check_origin(origin: object) -> str:
    if not isinstance(origin, str):
        raise ActionError("invalid_input", "origin must be a string")
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username:
        raise ActionError("invalid_input", f"origin must look like https://example.com, got {origin!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def check_widget(widget: object) -> dict:
    """Merge a partial widget settings object over the defaults, validating every field."""
    if not isinstance(widget, dict):
        raise ActionError("invalid_input", "widget settings must be an object")
    texts_default: dict = DEFAULT_WIDGET["texts"]  # type: ignore[assignment]
    out: dict = {**DEFAULT_WIDGET, "texts": {lang: dict(t) for lang, t in texts_default.items()}}
    for key, value in widget.items():
        if key == "color":
            if not isinstance(value, str) or not COLOR_RE.match(value):
                raise ActionError("invalid_input", "color must be #rrggbb")
            out["color"] = value.lower()
        elif key == "position":
            if value not in ("left", "right"):
                raise ActionError("invalid_input", "position must be left or right")
            out["position"] = value
        elif key == "language":
            if value not in ("ru", "en", "auto"):
                raise ActionError("invalid_input", "language must be ru, en or auto")
            out["language"] = value
        elif key == "rating":
            if value not in RATING_SCALES:
                raise ActionError("invalid_input", "rating must be stars or thumbs")
            out["rating"] = value
        elif key == "transcript":
            if not isinstance(value, bool):
                raise ActionError("invalid_input", "transcript must be true or false")
            out["transcript"] = value
        elif key == "auto_hold_seconds":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= AUTO_HOLD_MAX_SECONDS:
                raise ActionError("invalid_input",
                                  f"auto_hold_seconds must be a whole number 0..{AUTO_HOLD_MAX_SECONDS}")
            out["auto_hold_seconds"] = value
        elif key in ("launcher_delay", "auto_open_delay"):
            top = 600 if key == "launcher_delay" else 3600
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise ActionError("invalid_input", f"{key} must be whole seconds 0..{top}")
            out[key] = value
        elif key == "profanity":
            if value not in PROFANITY_MODES:
                raise ActionError("invalid_input", "profanity must be off, flag or mask")
            out["profanity"] = value
        elif key == "show_operator":
            out["show_operator"] = bool(value)
        elif key == "texts":
            if not isinstance(value, dict):
                raise ActionError("invalid_input", "texts must be an object")
            for lang, texts in value.items():
                if lang not in ("ru", "en") or not isinstance(texts, dict):
                    raise ActionError("invalid_input", "texts must be {ru: {...}, en: {...}}")
                for tkey, tval in texts.items():
                    if tkey not in TEXT_KEYS or not isinstance(tval, str) or len(tval) > 500:
                        raise ActionError("invalid_input", f"texts.{lang}.{tkey}: unknown key or longer than 500")
                    out["texts"][lang][tkey] = tval
        else:
            raise ActionError("invalid_input", f"unknown widget setting {str(key)[:40]!r}")
    return out


def widget_settings_of(widget: dict | None) -> dict:
    return check_widget(widget or {})


def public_widget(widget: dict | None) -> dict:
    """What the widget config shows visitors: the settings without the server-side holding phrases."""
    out = widget_settings_of(widget)
    out.pop("auto_hold_seconds", None)
    out.pop("profanity", None)  # an operators' setting, not the widget's
    out["texts"] = {lang: {k: v for k, v in texts.items() if k not in HOLDING_KEYS}
                    for lang, texts in out["texts"].items()}
    return out


def holding_text(widget: dict | None, lang: str, key: str) -> str:
    """The site's holding phrase ``key`` in ``lang``; the default when the admin left it empty."""
    text = widget_settings_of(widget)["texts"][lang][key].strip()
    return text or DEFAULT_WIDGET["texts"][lang][key]  # type: ignore[index]

def profanity_mode(widget: dict | None) -> str:
    """The site's profanity setting for visitor messages in the operator's view (off | flag | mask)."""
    mode = (widget or {}).get("profanity", "off")
    return mode if mode in PROFANITY_MODES else "off"



def site_json(site: Site) -> dict:
    return {"id": site.id, "name": site.name, "site_key": site.site_key,
            "allowed_origins": site.allowed_origins, "notify_emails": site.notify_emails,
            "widget": widget_settings_of(site.widget), "created_at": serialize.iso(site.created_at)}


async def add_site(session: AsyncSession, *, name: object, origins: list | None = None,
                   notify: list | None = None, widget: dict | None = None) -> Site:
    """Inside the caller's transaction (the CLI, the demo, ``create_site``)."""
    name = check_name(name, "site name", 200)
    site = Site(
        site_key=secrets.token_urlsafe(16),  # 128 bits; public, but not guessable
        name=name,
        allowed_origins=sorted({check_origin(o) for o in origins or []}),
        notify_emails=[check_email(e) for e in notify or []],
        widget=check_widget(widget or {}),
    )
    session.add(site)
    await session.flush()
    # Admins see every site; other operators only the sites they are members of.
    return site




async def create_site(rt: Runtime, *, name: object, origins: list | None = None, notify: list | None = None,
                      widget: dict | None = None) -> dict:
    async with rt.sessions() as session, session.begin():
        site = await add_site(session, name=name, origins=origins, notify=notify, widget=widget)
        return site_json(site)


async def update_site(rt: Runtime, site_id: object, *, name: object = None, origins: list | None = None,
                      notify: list | None = None, widget: dict | None = None) -> dict:
    """Admin: change a site; widget settings are merged over the current ones."""
    sid = check_id(site_id, "site")
    async with rt.sessions() as session, session.begin():
        site = await session.get(Site, sid)
        if site is None:
            raise not_found("site")
        if name is not None:
            site.name = check_name(name, "site name", 200)
        if origins is not None:
            site.allowed_origins = sorted({check_origin(o) for o in origins})
        if notify is not None:
            site.notify_emails = [check_email(e) for e in notify]
        if widget is not None:
            site.widget = check_widget({**(site.widget or {}), **widget})
        out = site_json(site)
    rt.cache.clear()  # this node's widget sockets see the change at once (other nodes: NodeCache.TTL)
    return out


async def get_site(rt: Runtime, operator: OperatorRef, site_id: object) -> dict:
    sid = check_id(site_id, "site")
    async with rt.sessions() as session:
        if sid not in await queries.operator_site_ids(session, operator):
            raise not_found("site")
        site = await session.get(Site, sid)
        if site is None:
            raise not_found("site")
        return site_json(site)


async def list_sites(rt: Runtime, operator: OperatorRef) -> list[dict]:
    async with rt.sessions() as session:
        ids = await queries.operator_site_ids(session, operator)
        rows = (await session.execute(select(Site).where(Site.id.in_(ids)).order_by(Site.id))).scalars().all()
        return [site_json(s) for s in rows]


async def site_ids_exist(rt: Runtime, site_ids: list[int]) -> set[int]:
    async with rt.sessions() as session:
        return set((await session.execute(select(Site.id).where(Site.id.in_(site_ids)))).scalars())
