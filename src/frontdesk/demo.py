"""`serve --demo`: a demo site, an admin and an operator, created once; credentials kept in the data dir."""
from __future__ import annotations

import json
import secrets

from sqlalchemy import select, text

from frontdesk.actions import operators, sites
from frontdesk.models import Operator, Site
from frontdesk.runtime import Runtime

DEMO_SITE = "Demo shop"
ADMIN_EMAIL = "admin@demo.frontdesk"
OPERATOR_EMAIL = "anna@demo.frontdesk"
DEMO_LOCK = 0x64656D6F  # "demo"


async def ensure_demo(rt: Runtime) -> dict:
    path = rt.settings.data_dir / "demo.json"
    info = json.loads(path.read_text()) if path.exists() else {}
    async with rt.sessions() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":  # nodes starting together create it once
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEMO_LOCK})
        site = (await session.execute(select(Site).where(Site.name == DEMO_SITE))).scalar_one_or_none()
        if site is None:
            site = await sites.add_site(session, name=DEMO_SITE, notify=["owner@demo.frontdesk"])
        for email, name, admin, key in ((ADMIN_EMAIL, "Администратор", True, "admin_password"),
                                        (OPERATOR_EMAIL, "Анна", False, "operator_password")):
            exists = (await session.execute(select(Operator).where(Operator.email == email))).scalar_one_or_none()
            if exists is None:
                info[key] = secrets.token_urlsafe(9)
                await operators.add_operator(session, email=email, name=name, password=info[key],
                                                admin=admin, site_ids=[site.id])
        info.update(site_key=site.site_key, admin_email=ADMIN_EMAIL, operator_email=OPERATOR_EMAIL)
    rt.settings.data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2))
    path.chmod(0o600)
    return info
