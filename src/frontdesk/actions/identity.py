"""Who is acting: plain values that ``web/`` and ``realtime/`` hold between calls, instead of
database rows (they never import ``models``)."""
from __future__ import annotations

from dataclasses import dataclass

from frontdesk.models import Operator, Site, Visitor


@dataclass(slots=True)
class OperatorRef:
    id: int
    email: str
    name: str
    role: str
    status: str
    is_active: bool
    language: str
    photo_type: str | None
    photo_version: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def of(cls, op: Operator) -> OperatorRef:
        return cls(id=op.id, email=op.email, name=op.name, role=op.role, status=op.status,
                   is_active=op.is_active, language=op.language, photo_type=op.photo_type,
                   photo_version=op.photo_version or 0)


@dataclass(slots=True)
class VisitorRef:
    id: int
    site_id: int
    name: str | None
    email: str | None
    phone: str | None
    language: str

    @classmethod
    def of(cls, v: Visitor) -> VisitorRef:
        return cls(id=v.id, site_id=v.site_id, name=v.name, email=v.email, phone=v.phone, language=v.language or "")

    def contacts(self) -> dict:
        return {"name": self.name, "email": self.email, "phone": self.phone}


@dataclass(slots=True, frozen=True)
class SiteRef:
    id: int
    name: str
    site_key: str
    allowed_origins: tuple[str, ...]
    hours: dict | None
    widget: dict | None

    @classmethod
    def of(cls, s: Site) -> SiteRef:
        return cls(id=s.id, name=s.name, site_key=s.site_key, allowed_origins=tuple(s.allowed_origins or ()),
                   hours=s.hours, widget=s.widget)

    def origin_allowed(self, origin: str | None) -> bool:
        if not self.allowed_origins:
            return True
        return origin is not None and origin.rstrip("/").lower() in self.allowed_origins
