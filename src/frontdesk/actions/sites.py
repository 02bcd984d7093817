"""Sites: create, widget settings, allowed origins."""
from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions import ActionError
from frontdesk.actions.operators import check_email, check_name
from frontdesk.models import Site

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
TEXT_KEYS = ("title", "subtitle", "greeting", "placeholder", "offline_title", "offline_text")
DEFAULT_WIDGET = {
    "color": "#1f6feb",
    "position": "right",
    "language": "auto",  # ru | en | auto (the visitor's browser)
    "show_operator": True,
    "texts": {
        "ru": {"title": "Онлайн-консультант", "subtitle": "Обычно отвечаем за минуту",
               "greeting": "Здравствуйте! Чем можем помочь?", "placeholder": "Напишите сообщение…",
               "offline_title": "Сейчас нас нет в сети",
               "offline_text": "Оставьте сообщение — мы ответим на e‑mail."},
        "en": {"title": "Chat with us", "subtitle": "We usually reply within a minute",
               "greeting": "Hello! How can we help?", "placeholder": "Type a message…",
               "offline_title": "We are offline right now",
               "offline_text": "Leave a message and we will reply by e‑mail."},
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
    out = {**DEFAULT_WIDGET, "texts": {lang: dict(t) for lang, t in DEFAULT_WIDGET["texts"].items()}}
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
            raise ActionError("invalid_input", f"unknown widget setting {key!r}")
    return out


def widget_settings(site: Site) -> dict:
    return check_widget(site.widget or {})


async def create_site(session: AsyncSession, *, name: object, origins: list | None = None,
                      notify: list | None = None, widget: dict | None = None) -> Site:
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
    # Admins see every site; other operators only the sites they are members of
    # (granted explicitly: `create-operator` with no --site, or the admin panel).
    return site


async def site_by_key(session: AsyncSession, site_key: object) -> Site | None:
    if not isinstance(site_key, str) or not 1 <= len(site_key) <= 64:
        return None
    return (await session.execute(select(Site).where(Site.site_key == site_key))).scalar_one_or_none()


def origin_allowed(site: Site, origin: str | None) -> bool:
    if not site.allowed_origins:
        return True
    return origin is not None and origin.rstrip("/").lower() in site.allowed_origins
