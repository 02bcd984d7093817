"""build_app(settings): routes, middleware, and the lifespan that owns the database, the
broker, the hub, the writer and the background loops."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from frontdesk import db, migrate
from frontdesk.actions import bans, conversations, health, spelling
from frontdesk.actions.background import Background, file_offset_clock
from frontdesk.actions.visits import PageViewWriter
from frontdesk.actions.writer import MessageWriter
from frontdesk.broker import broker_from_url
from frontdesk.context.geoip import GeoIP
from frontdesk.realtime.hub import Hub
from frontdesk.realtime.operator_ws import operator_socket
from frontdesk.realtime.visitor_ws import visitor_socket
from frontdesk.runtime import Runtime
from frontdesk.settings import Settings
from frontdesk.web import (
    api_admin,
    api_bans,
    api_departments,
    api_invitations,
    api_offline,
    api_operator,
    api_phrases,
    api_quality,
    api_reports,
    api_supervision,
    api_team,
    api_widget,
    errors,
    pages,
)
from frontdesk.web.limits import LoginLimiter, OfflineLimiter, PasswordLimiter, SlidingWindow
from frontdesk.web.middleware import BodyLimit, SecurityHeaders, WidgetCors
from frontdesk.web.pages import STATIC
from frontdesk.web.shared_limits import RedisCounters

log = logging.getLogger(__name__)


class FrontdeskApp(FastAPI):
    """The application. The two WebSocket endpoints are called straight from here: a socket lives
    for hours, and every layer of the middleware/router chain (none of which acts on a WebSocket
    scope) would stay on its stack for all that time — a dozen coroutine frames and closures per
    open socket, and one more ``send`` wrapper per frame sent. Everything else takes the usual path."""

    sockets: dict[str, Callable[[WebSocket], Awaitable[None]]] = {}

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            handler = self.sockets.get(scope["path"])
            if handler is not None:
                scope["app"] = self
                await handler(WebSocket(scope, receive, send))
                return
        await super().__call__(scope, receive, send)


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = db.create_engine(settings.resolved_database_url())
        await migrate.upgrade(engine)
        broker = broker_from_url(settings.broker_url)
        await broker.connect()
        rt = Runtime(settings=settings, engine=engine, sessions=db.session_factory(engine), broker=broker)
        if settings.test_clock_file:
            log.warning("FRONTDESK_TEST_CLOCK_FILE is set: the clock is moved by %s (tests only)",
                        settings.test_clock_file)
            rt.clock = file_offset_clock(settings.test_clock_file)
        # GeoIP data (≈0.5 s) loads in a thread: start-up does not wait for it
        rt.geoip = GeoIP(settings.geoip_mmdb or None)
        geoip_loading = asyncio.get_running_loop().run_in_executor(None, rt.geoip.load)
        hub = Hub()
        hub.clock = rt.clock
        hub.observe = rt.cache.observe
        rt.dispatch_local = hub.dispatch
        rt.operator_connected = hub.operator_connected
        rt.operator_tabs = hub.operator_tabs

        async def fetch(cid: int, after: int, upto: int) -> Any:
            return await conversations.message_events(rt, cid, after, upto)

        async def catch_up(since: Any) -> Any:
            return await conversations.events_since(rt, since)

        hub.sequencer.fetch = fetch
        hub.catch_up = catch_up
        rt.writer = MessageWriter(rt, settings.write_batch_max)
        rt.writer.start()
        await bans.load_active(rt)  # before the first socket: every node refuses what the bans cover
        rt.page_views = PageViewWriter(rt)
        rt.page_views.start()
        background = Background(rt)
        hub.sequencer.spawn = background.supervisor.spawn
        hub.on_operator_gone = rt.operator_gone
        hub.on_operators_changed = rt.operator_tabs_changed
        await hub.start(broker)
        app.state.rt, app.state.hub = rt, hub
        # limits are shared by every node through Redis when there is one, else per node
        shared = RedisCounters(settings.broker_url) if settings.broker_url.startswith(("redis://", "rediss://")) \
            else None
        app.state.login_limiter = LoginLimiter(settings.login_max_failures, shared)
        app.state.password_limiter = PasswordLimiter(settings.login_max_failures, shared)
        app.state.offline_limiter = OfflineLimiter(shared)
        app.state.config_limiter = SlidingWindow(60.0)
        app.state.pageview_limiters = (SlidingWindow(60.0, max_keys=50_000), SlidingWindow(60.0))  # visitor, address
        if shared is not None:  # the per-address caps of visitor sockets hold across nodes too
            hub.addresses.shared = shared
            background.supervisor.run("address-leases", hub.addresses.renew_leases)
        if settings.demo:
            from frontdesk.demo import ensure_demo

            app.state.demo_site_key = (await ensure_demo(rt))["site_key"]
        else:
            from frontdesk.demo import disable_demo_accounts

            disabled = await disable_demo_accounts(rt)
            if disabled:
                log.warning("started without --demo: the demo accounts %s are deactivated (their passwords are in "
                            "demo.json); create your own with `frontdesk create-operator --admin`, or start with "
                            "--demo to use them again", ", ".join(disabled))
        # Startup objects (modules, mappers, caches) leave the collector's generations, and
        # young collections run less often: full collections walked ~530 objects per open
        # socket and paused the loop ≈0.2 s at 500 sockets (bench/README.md, "Core relay").
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 20, 20)
        background.start()
        if settings.spellcheck:
            spelling.start_loading()  # a worker thread: the server answers at once, the check says "not ready"
        try:
            yield
        finally:
            await background.stop()
            for conn in [c for cs in hub.visitors.values() for c in cs] + \
                    [c for cs in hub.operators.values() for c in cs]:
                conn.close(1001)
            await rt.page_views.stop()
            await rt.writer.stop()
            await hub.stop()
            await broker.disconnect()
            if shared is not None:
                await shared.close()
            await engine.dispose()
            await geoip_loading

    app = FrontdeskApp(title="frontdesk", version=_version(), lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)  # no CDN page
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(WidgetCors)
    app.add_middleware(SecurityHeaders)
    # no body larger than a photo (plus its multipart wrapping) is ever read
    app.add_middleware(BodyLimit, max_bytes=settings.photo_max_bytes + 64 * 1024)
    # the widget's code and the API's JSON shrink 3-5× (widget.js ≈ 12 KB → 5 KB)
    app.add_middleware(GZipMiddleware, minimum_size=1024)

    @app.get("/healthz", tags=["ops"], responses={503: {"description": "the database does not answer"}})
    async def healthz(request: Request) -> JSONResponse:
        ok = await health.database_ok(request.app.state.rt)
        return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)

    # the sockets first: a route is found by trying each in turn, and every hello of a reconnect
    # storm would otherwise walk all the included routers' routes first (≈ 30 % of a hello's CPU)
    app.add_api_websocket_route("/ws/visitor", visitor_socket)
    app.add_api_websocket_route("/ws/operator", operator_socket)
    app.sockets = {"/ws/visitor": visitor_socket, "/ws/operator": operator_socket}
    app.include_router(api_operator.router)
    app.include_router(api_team.router)
    app.include_router(api_admin.router)
    app.include_router(api_reports.router)
    app.include_router(api_quality.router)
    app.include_router(api_widget.router)
    app.include_router(api_offline.router)
    app.include_router(api_phrases.router)
    app.include_router(api_supervision.router)
    app.include_router(api_invitations.router)
    app.include_router(api_bans.router)
    app.include_router(api_departments.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("frontdesk")
    except PackageNotFoundError:
        return "0"


__all__ = ["build_app"]
