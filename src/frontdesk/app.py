"""build_app(settings): routes, and the lifespan that owns db, broker, hub and writer."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select, text
from starlette.middleware.base import BaseHTTPMiddleware

from frontdesk import db, migrate
from frontdesk.actions import operators
from frontdesk.actions.conversations import message_events
from frontdesk.actions.messages import MessageWriter
from frontdesk.broker import broker_from_url
from frontdesk.realtime.hub import Hub
from frontdesk.realtime.operator_ws import operator_socket
from frontdesk.realtime.visitor_ws import visitor_socket
from frontdesk.runtime import Runtime
from frontdesk.settings import Settings
from frontdesk.web import api_admin, api_offline, api_operator, api_widget, errors, pages
from frontdesk.web.auth import LoginLimiter
from frontdesk.web.pages import STATIC

log = logging.getLogger(__name__)


class _WidgetCors(BaseHTTPMiddleware):
    """The widget runs on customers' sites: its endpoints answer cross-origin,
    without credentials (the visitor is a Bearer token, never a cookie)."""

    async def dispatch(self, request: Request, call_next):  # noqa: ANN001, ANN201
        if not request.url.path.startswith("/api/v1/widget/"):
            return await call_next(request)
        origin = request.headers.get("origin")
        if request.method == "OPTIONS":
            response = Response(status_code=204)
        else:
            response = await call_next(request)
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Max-Age"] = "600"
        return response


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):  # noqa: ANN001, ANN201
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response


class _Presence:
    """Sets an operator offline when its last panel tab on this node has been gone for the grace period."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.timers: dict[int, asyncio.TimerHandle] = {}

    def operator_gone(self, operator_id: int) -> None:
        loop = asyncio.get_running_loop()
        if operator_id in self.timers:
            self.timers.pop(operator_id).cancel()
        self.timers[operator_id] = loop.call_later(
            self.rt.settings.offline_grace, lambda: asyncio.ensure_future(self._expire(operator_id)))

    async def _expire(self, operator_id: int) -> None:
        self.timers.pop(operator_id, None)
        if not self.rt.hub.operator_connected(operator_id):
            await operators.set_status(self.rt, operator_id, "offline")

    def stop(self) -> None:
        for t in self.timers.values():
            t.cancel()


async def _offer_repeater(rt: Runtime) -> None:
    """Re-offer conversations that wait unassigned longer than FRONTDESK_OFFER_REPEAT (escalating alert)."""
    from frontdesk import events as ev
    from frontdesk.actions.conversations import load_conversation
    from frontdesk.events import Event
    from frontdesk.models import Conversation

    repeats: dict[int, int] = {}
    while True:
        await asyncio.sleep(min(5.0, rt.settings.offer_repeat))
        try:
            now = rt.clock()
            async with rt.sessions() as session:
                waiting = (await session.execute(select(Conversation).where(
                    Conversation.status == "open", Conversation.assignee_id.is_(None),
                    Conversation.last_seq > 0))).scalars().all()
                out = []
                for conv in waiting:
                    waited = (now - conv.created_at).total_seconds()
                    due = int(waited // rt.settings.offer_repeat)
                    if due > repeats.get(conv.id, 0):
                        repeats[conv.id] = due
                        out.append(Event(ev.CONVERSATION_OFFERED, conv.site_id,
                                         {"conversation": await load_conversation(session, conv), "repeat": due},
                                         conversation_id=conv.id, visitor_id=conv.visitor_id))
                alive = {c.id for c in waiting}
                for cid in list(repeats):
                    if cid not in alive:
                        del repeats[cid]
            await rt.publish(*out)
        except Exception:  # noqa: BLE001
            log.exception("offer repeater failed")


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        engine = db.create_engine(settings.resolved_database_url())
        await migrate.upgrade(engine)
        broker = broker_from_url(settings.broker_url)
        await broker.connect()
        hub = Hub()
        await hub.start(broker)
        rt = Runtime(settings=settings, engine=engine, sessions=db.session_factory(engine), broker=broker, hub=hub)
        hub.sequencer.fetch = functools.partial(message_events, rt)
        rt.writer = MessageWriter(rt, settings.write_batch_max)
        rt.writer.start()
        presence = _Presence(rt)
        hub.on_operator_gone = presence.operator_gone
        app.state.rt = rt
        app.state.login_limiter = LoginLimiter(settings.login_max_failures)
        if settings.demo:
            from frontdesk.demo import ensure_demo

            app.state.demo_site_key = (await ensure_demo(rt))["site_key"]
        repeater = asyncio.create_task(_offer_repeater(rt))
        # Startup objects (modules, mappers, caches) leave the collector's generations, and
        # young collections run less often: full collections walked ~530 objects per open
        # socket and paused the loop ≈0.2 s at 500 sockets (bench/README.md, "Core relay").
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 20, 20)
        from frontdesk.actions.offline import OfflineServices  # issue 6: test clock, outbox sender, hours/no-reply ticker

        offline_services = OfflineServices(rt)
        offline_services.start()
        try:
            yield
        finally:
            repeater.cancel()
            await offline_services.stop()
            presence.stop()
            for conns in list(hub.visitors.values()) + list(hub.operators.values()):
                for conn in list(conns):
                    conn.close(1001)
            await asyncio.sleep(0)
            await rt.writer.stop()
            await hub.stop()
            await broker.disconnect()
            await engine.dispose()

    app = FastAPI(title="frontdesk", version=_version(), lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None)
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(_WidgetCors)
    app.add_middleware(_SecurityHeaders)
    # the widget's code and the API's JSON shrink 3-5× (widget.js ≈ 12 KB → 5 KB)
    app.add_middleware(GZipMiddleware, minimum_size=1024)

    @app.get("/healthz", tags=["ops"])
    async def healthz(request: Request) -> JSONResponse:
        try:
            async with request.app.state.rt.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    app.include_router(api_operator.router)
    app.include_router(api_admin.router)
    app.include_router(api_widget.router)
    app.include_router(api_offline.router)  # issue 6: offline form, contacts, working hours, outbox
    app.include_router(pages.router)
    app.add_api_websocket_route("/ws/visitor", visitor_socket)
    app.add_api_websocket_route("/ws/operator", operator_socket)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("frontdesk")
    except PackageNotFoundError:
        return "0"


__all__ = ["build_app"]
