"""`serve --demo`: the demo shop's site, an admin and an operator, created once; credentials kept in the data dir."""
from __future__ import annotations

import json
import secrets

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions import operators, sites
from frontdesk.models import Operator, Site
from frontdesk.runtime import Runtime

# The site is named after the shop at /demo/ and wears its accent colour (static/demo/shop.css: buttons,
# logo, prices), so the widget looks like part of the shop. #b35a24 carries white text at 4.8:1 (WCAG AA).
DEMO_SITE = "Уютный дом"
DEMO_COLOR = "#b35a24"
LEGACY_DEMO_SITES = ("Demo shop",)   # what installs made before 0.2 called it: found and renamed
ADMIN_EMAIL = "admin@demo.frontdesk"
OPERATOR_EMAIL = "anna@demo.frontdesk"
DEMO_LOCK = 0x64656D6F  # "demo"


async def _find_site(session: AsyncSession, site_key: str | None) -> Site | None:
    if site_key:
        site = (await session.execute(select(Site).where(Site.site_key == site_key))).scalar_one_or_none()
        if site is not None:
            return site
    return (await session.execute(select(Site).where(Site.name.in_((DEMO_SITE, *LEGACY_DEMO_SITES)))
                                  .order_by(Site.id))).scalars().first()


async def ensure_demo(rt: Runtime) -> dict:
    """Create what is missing; on the demo's first start its two accounts go online (``FRONTDESK_DEMO_ONLINE``),
    so a visitor of the demo shop gets the live chat at once instead of the offline form."""
    path = rt.settings.data_dir / "demo.json"
    info = json.loads(path.read_text()) if path.exists() else {}
    created: list[int] = []
    async with rt.sessions() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":  # nodes starting together create it once
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEMO_LOCK})
        site = await _find_site(session, info.get("site_key"))
        if site is None:
            site = await sites.add_site(session, name=DEMO_SITE, notify=["owner@demo.frontdesk"],
                                        widget={"color": DEMO_COLOR})
        elif site.name in LEGACY_DEMO_SITES:
            site.name = DEMO_SITE
        for email, name, admin, key in ((ADMIN_EMAIL, "Администратор", True, "admin_password"),
                                        (OPERATOR_EMAIL, "Анна", False, "operator_password")):
            exists = (await session.execute(select(Operator).where(Operator.email == email))).scalar_one_or_none()
            if exists is not None and not exists.is_active:
                exists.is_active = True  # disabled by a start without --demo; --demo brings them back
            if exists is None:
                info[key] = secrets.token_urlsafe(9)
                op = await operators.add_operator(session, email=email, name=name, password=info[key],
                                                  admin=admin, site_ids=[site.id])
                created.append(op.id)
        info.update(site_key=site.site_key, admin_email=ADMIN_EMAIL, operator_email=OPERATOR_EMAIL)
    if created and rt.settings.demo_online:
        for operator_id in created:
            await operators.set_status(rt, operator_id, "online")
        info["started_online"] = True
    rt.settings.data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2))
    path.chmod(0o600)
    return info


async def disable_demo_accounts(rt: Runtime) -> list[str]:
    """A start without ``--demo`` is a real installation: the demo's accounts, whose passwords lie
    in demo.json, are deactivated (their sessions end with it). ``serve --demo`` turns them on again.
    Returns the e-mails it deactivated."""
    async with rt.sessions() as session, session.begin():
        rows = await session.execute(update(Operator).where(
            Operator.email.in_((ADMIN_EMAIL, OPERATOR_EMAIL)), Operator.is_active.is_(True))
            .values(is_active=False).returning(Operator.email))
        return sorted(rows.scalars())
