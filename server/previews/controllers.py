from __future__ import annotations

import asyncio
from typing import AsyncIterator

from litestar import Controller, get, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from compiler.workspace import Workspace
from core.settings import Settings
from publish.ledger import Ledger
from ..analytics.notes import add_retention_notes
from ..broker import Broker
from ..ids import video_id
from . import views
from .schemas import BuildAccepted, Overview, VideoDetail
from .services import BuildQueue, StateBook
from .thumbs import SceneThumbs

KEEPALIVE_S = 15.0


def brand_names(ws: Workspace) -> dict[str, str]:
    try:
        return {b: str(getattr(l.model, "name", "") or b) for b, l in ws.project.brands.items()}
    except Exception:  # a project mid-edit: names are cosmetic
        return {}


class PreviewController(Controller):
    path = "/api"
    tags = ["previews"]

    @get("/videos", sync_to_thread=True)
    def videos(self, book: StateBook, settings: Settings, ledger: Ledger, workspace: Workspace) -> Overview:
        """Every brand and its videos with their state badges."""
        return views.overview(book, settings.build, ledger, brand_names(workspace))

    @get("/videos/{brand:str}/{slug:str}", sync_to_thread=True)
    def video(self, brand: str, slug: str, book: StateBook, settings: Settings, ledger: Ledger,
              workspace: Workspace, thumbs: SceneThumbs) -> VideoDetail:
        """One video: the build's scenes (with thumbnails), metadata, assets, step timing and what would rebuild
        (explain), what it cost (LLM tokens x price, avatar minutes) and the provenance of each file."""
        vid = video_id(brand, slug)
        if vid not in views.video_ids(book, settings.build):
            raise NotFoundException(f"no video {vid}")
        return add_retention_notes(views.detail(vid, book, settings.build, ledger, workspace, thumbs),
                                   settings.build, ledger, workspace)

    @post("/videos/{brand:str}/{slug:str}/build", status_code=202, sync_to_thread=False)
    def build(self, brand: str, slug: str, book: StateBook, queue: BuildQueue, settings: Settings) -> BuildAccepted:
        """Queue a build of the video (superseding a queued one); the worker builds, never this handler."""
        vid = video_id(brand, slug)
        if vid not in views.video_ids(book, settings.build):
            raise NotFoundException(f"no video {vid}")
        superseded = queue.request([vid], reason="button")[vid]
        return BuildAccepted(video=vid, queued=True, superseded=superseded)

    @get("/events", sync_to_thread=False, include_in_schema=False)
    def events(self, broker: Broker, book: StateBook,
               max_events: int | None = Parameter(default=None, ge=1, le=10_000)) -> ServerSentEvent:
        """Server-Sent Events: `state` (a video's state), `build` (engine events), `job` / `job-event` (publish)."""

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            q = broker.subscribe()
            sent = 0
            try:
                for st in book.all().values():  # the current states first, so a fresh page is complete
                    yield ServerSentEventMessage(event="state", data=st.model_dump_json())
                    sent += 1
                    if max_events and sent >= max_events:
                        return
                while not broker.closed:
                    try:
                        msg = await asyncio.wait_for(q.get(), KEEPALIVE_S)
                    except asyncio.TimeoutError:
                        yield ServerSentEventMessage(comment="keepalive")
                        continue
                    if msg is None:
                        return
                    yield ServerSentEventMessage(event=msg.event, data=msg.data)
                    sent += 1
                    if max_events and sent >= max_events:
                        return
            finally:
                broker.unsubscribe(q)

        return ServerSentEvent(stream(), headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
