"""``FRONTDESK_SMTP_URL`` → how to reach the SMTP server.

``smtp://user:pass@host:port`` — plain connection, upgraded with STARTTLS when the
server offers it (``?starttls=require`` insists on it, ``?starttls=off`` never tries);
``smtps://…`` — TLS from the first byte (port 465). User and password are
percent-decoded, so ``p%40ss`` is ``p@ss``.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

_STARTTLS = {"auto": None, "require": True, "off": False}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool | None  # None = when offered

    @property
    def display(self) -> str:
        """Where we send, for the panel and logs (never the password)."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig | None:
    """None for an empty URL (e-mail off); ValueError with a readable reason for a bad one."""
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("FRONTDESK_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("FRONTDESK_SMTP_URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("FRONTDESK_SMTP_URL has a bad port") from None
    implicit = parts.scheme == "smtps"
    mode = (parse_qs(parts.query).get("starttls") or ["auto"])[0]
    if mode not in _STARTTLS:
        raise ValueError("starttls= must be auto, require or off")
    return SmtpConfig(
        host=parts.hostname, port=port or (465 if implicit else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit, starttls=False if implicit else _STARTTLS[mode])
