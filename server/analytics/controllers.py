from __future__ import annotations

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import Template

from compiler.workspace import Workspace
from core.settings import Settings
from publish.ledger import Ledger
from ..ids import BRAND_RE, video_id
from ..pages import _context, fmt_time
from ..previews import views as preview_views
from ..previews.controllers import brand_names
from ..previews.services import StateBook
from . import services, views
from .schemas import BrandAnalytics, VideoAnalytics


def _video(brand: str, slug: str, book: StateBook, settings: Settings, ledger: Ledger,
           workspace: Workspace) -> VideoAnalytics:
    vid = video_id(brand, slug)
    if vid not in preview_views.video_ids(book, settings.build) and services.live_video(ledger, vid) is None:
        raise NotFoundException(f"no video {vid}")
    return services.video_analytics(vid, settings.build, ledger, workspace)


def _brand(brand: str, ledger: Ledger, workspace: Workspace, settings: Settings, limit: int) -> BrandAnalytics:
    names = brand_names(workspace)
    if not BRAND_RE.match(brand) or (brand not in names and not services.has_published(ledger, brand)):
        raise NotFoundException(f"no brand {brand}")
    return services.brand_analytics(brand, names.get(brand, brand), settings.build, ledger, limit)


class AnalyticsController(Controller):
    path = "/api/analytics"
    tags = ["analytics"]

    @get("/videos/{brand:str}/{slug:str}", sync_to_thread=True)
    def video(self, brand: str, slug: str, book: StateBook, settings: Settings, ledger: Ledger,
              workspace: Workspace) -> VideoAnalytics:
        """A published video's views per day, retention curve, per-scene retention and weakest scenes
        (`state`: not-published or no-data with a `message` when there is nothing to show)."""
        return _video(brand, slug, book, settings, ledger, workspace)

    @get("/brands/{brand:str}", sync_to_thread=True)
    def brand(self, brand: str, settings: Settings, ledger: Ledger, workspace: Workspace,
              limit: int = Parameter(default=8, ge=1, le=50)) -> BrandAnalytics:
        """The brand's last published videos side by side, newest first."""
        return _brand(brand, ledger, workspace, settings, limit)


class AnalyticsPages(Controller):
    path = "/analytics"
    include_in_schema = False

    @get("/{brand:str}/{slug:str}", sync_to_thread=True)
    def video(self, request: Request, brand: str, slug: str, book: StateBook, settings: Settings, ledger: Ledger,
              workspace: Workspace) -> Template:
        a = _video(brand, slug, book, settings, ledger, workspace)
        return Template("analytics_video.html", context={
            **_context(request), "a": a, "charts": views.video_charts(a), "fmt_time": fmt_time,
            "brand": brand})

    @get("/{brand:str}", sync_to_thread=True)
    def brand(self, request: Request, brand: str, settings: Settings, ledger: Ledger,
              workspace: Workspace) -> Template:
        b = _brand(brand, ledger, workspace, settings, 8)
        return Template("analytics_brand.html", context={**_context(request), "b": b,
                                                         "sparks": views.sparklines(b)})
