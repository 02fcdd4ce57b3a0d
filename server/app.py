"""`create_app(settings)`: the studio's Litestar app (litestar-fullstack habits).

One folder per area (`previews/`, `reviews/`, `publish/`, `analytics/`, `qc/`) with controllers, schemas and
services; the settings, store, ledger, a read-side Workspace, the state book, the build queue, the broker, the
publish jobs and the QC sync come by dependency injection; the build worker and the file watcher start in the
lifespan. Handlers enqueue builds and start jobs; they never render.
"""
from __future__ import annotations

import hmac
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Request
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import MutableScopeHeaders
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from compiler.workspace import Workspace
from core.settings import Settings
from core.store import Store
from publish.ledger import Ledger
from .analytics.controllers import AnalyticsController, AnalyticsPages
from .broker import Broker
from .cas.controllers import CasController
from .cas.machines import MachinesController
from .media import DigestMemo, MediaController
from .metrics import MetricsController, studio_registry
from .pages import PageController
from .previews.controllers import PreviewController
from .previews.services import BuildFn, BuildQueue, StateBook
from .previews.thumbs import SceneThumbs
from .previews.views import read_manifest
from .previews.watch import Watcher
from .publish.controllers import PublishController
from .publish.services import Jobs
from .qc.controllers import QCController, QCPages
from .qc.services import QCSync, brand_shares
from .reviews.controllers import ReviewController
from .security import (CSRF_FIELD, CSRF_HEADER, MUTATIONS, SECURITY_HEADERS, SESSION_COOKIE, Sessions, check_start,
                       ensure_token, is_loopback, token_path, worker_token_path)

WEB = Path(__file__).resolve().parents[1] / "web"
MAX_BODY = 1024 * 1024  # 1 MiB: reviews and publish requests are small JSON
OPEN_PATHS = ("/login", "/static/")
MACHINE_PATHS = ("/cas/", "/ac/")  # the shared store: worker token only (server/cas), never the session


def session_id(request: Request) -> str | None:
    return request.app.state.sessions.session_id(request.cookies.get(SESSION_COOKIE))


async def _guard(request: Request) -> None:
    """Mutations need the session and the CSRF token (on 127.0.0.1 too); on a LAN host reads need the session."""
    if request.url.path.startswith(MACHINE_PATHS):
        return  # CasController's guard checks the bearer worker token; cookies mean nothing there
    sessions: Sessions = request.app.state.sessions
    sid = session_id(request)
    if request.method in MUTATIONS:
        if sid is None:
            raise NotAuthorizedException("log in first: open the login link the studio printed when it started")
        given = request.headers.get(CSRF_HEADER)
        if not given and request.content_type[0] in ("application/x-www-form-urlencoded", "multipart/form-data"):
            given = (await request.form()).get(CSRF_FIELD)
        if not sessions.check_csrf(sid, given if isinstance(given, str) else None):
            raise PermissionDeniedException("missing or wrong CSRF token (send it as X-CSRF-Token)")
    elif request.app.state.reads_need_login and sid is None and not request.url.path.startswith(OPEN_PATHS):
        if request.url.path.rstrip("/") == "/metrics" and _bearer_ok(request):
            return  # Prometheus scrapes a LAN studio with the worker token (deploy/prometheus.yml)
        raise NotAuthorizedException("log in first: open the login link the studio printed when it started")


def _bearer_ok(request: Request) -> bool:
    expected: str | None = request.app.state.worker_token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and bool(given) and \
        hmac.compare_digest(given.strip().encode(), expected.encode())


async def _security_headers(message: Message, scope: Scope) -> None:
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for k, v in SECURITY_HEADERS.items():
            headers[k] = v


def create_app(settings: Settings, *, token: str | None = None, watch: bool = True, host: str = "127.0.0.1",
               build_fn: BuildFn | None = None, scan: bool = True, ledger: Ledger | None = None,
               worker_token: str | None = None) -> Litestar:
    """The studio app. `token`: the login token (default: read or create the token file, refusing a LAN host
    without one); `watch`: start the file watcher; `build_fn`: what the worker calls (tests inject a fake);
    `worker_token`: the render workers' bearer token for /cas and /ac (default: read or create its file)."""
    if token is None:
        token, _ = check_start(host, token_path(settings.env), settings.root)
    if worker_token is None:
        worker_token, _ = ensure_token(worker_token_path(settings.env))
    broker = Broker()
    book = StateBook(broker, state_dir=settings.cache / "studio" / "builds")
    store = Store(settings.cache)
    thumbs = SceneThumbs(settings.cache / "studio" / "thumbs", store)
    own_ledger = ledger is None
    ledger = ledger or Ledger.open(settings.db_url)
    qc = QCSync(settings.root, ledger, broker)
    queue = BuildQueue(settings, book, broker=broker, build_fn=build_fn,
                       on_built=lambda vid, profile: thumbs.want_scenes(
                           read_manifest(settings.build, vid, preview=profile == "preview")),
                       on_landed=lambda vid: landed(vid))

    def landed(vid: str | None) -> None:
        """A final build landed (or the scan): store its QC, with the brand's sample share as it is now; the queue
        changes even when the build brought no QC (the previous build's entry leaves it)."""
        saved = qc.sync(video=vid, shares=brand_shares(queue.ws.project), force=True)
        if vid is not None and not saved:
            qc.announce([vid])
    jobs = Jobs(settings.root, ledger, broker, env=settings.env)
    digests = DigestMemo()
    watcher = Watcher(settings.root, queue.notify_changes) if watch else None

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        queue.start(scan=scan)
        if watcher is not None:
            watcher.start()
        try:
            yield
        finally:
            broker.close()
            if watcher is not None:
                watcher.stop()
            queue.stop()
            thumbs.stop()
            if own_ledger:
                ledger.close()

    def const(value):
        return Provide(lambda: value, sync_to_thread=False)

    env = Environment(loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    app = Litestar(
        route_handlers=[PageController, PreviewController, ReviewController, PublishController, MediaController,
                        AnalyticsController, AnalyticsPages, MetricsController, QCController, QCPages,
                        CasController, MachinesController,
                        create_static_files_router(path="/static", directories=[WEB / "static"],
                                                   include_in_schema=False)],
        dependencies={
            "settings": const(settings), "store": const(store), "ledger": const(ledger), "book": const(book),
            "queue": const(queue), "broker": const(broker), "jobs": const(jobs), "digests": const(digests),
            "thumbs": const(thumbs), "qc": const(qc),
            "build_root": const(settings.build),
            "workspace": Provide(lambda: Workspace(settings), sync_to_thread=False),
        },
        lifespan=[lifespan],
        before_request=_guard,
        before_send=[_security_headers],
        request_max_body_size=MAX_BODY,
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(env)),
        openapi_config=OpenAPIConfig(title="Showrunner studio", version="1"),
        debug=False,
    )
    app.state.sessions = Sessions(token)
    app.state.worker_token = worker_token
    app.state.reads_need_login = not is_loopback(host)
    app.state.queue = queue
    app.state.book = book
    app.state.broker = broker
    app.state.jobs = jobs
    app.state.thumbs = thumbs
    app.state.qc = qc
    app.state.metrics_registry = studio_registry(app.state, ledger, settings.cache)
    return app
