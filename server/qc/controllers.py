"""The review queue (page and API) and one build's QC (API, and the Video page's QC section as a fragment)."""
from __future__ import annotations

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import Template

from compiler.workspace import Workspace
from core.settings import Settings
from publish.ledger import Ledger
from publish.units import discover
from ..ids import video_id
from ..pages import _context, fmt_time
from ..previews import views
from ..previews.services import StateBook, read_build_digest
from .queue import review_queue_view
from .schemas import QCView, ReviewQueue
from .services import QCSync, qc_view, sync_for_read, unit_folder


def _project(ws: Workspace):
    try:
        return ws.project
    except Exception:  # a project that does not load: findings show without their spec locations
        return None


def _qc_of(brand: str, slug: str, fmt: str | None, book: StateBook, settings: Settings, ledger: Ledger,
           workspace: Workspace, qc: QCSync) -> QCView | None:
    vid = video_id(brand, slug)
    if vid not in views.video_ids(book, settings.build):
        raise NotFoundException(f"no video {vid}")
    unit = f"{vid}@{fmt}" if fmt else vid
    sync_for_read(qc, workspace, vid)
    folder = unit_folder(unit)
    digest = read_build_digest(settings.build, folder)
    m = views.read_manifest(settings.build, folder)
    return qc_view(ledger, unit, digest, list(m.scenes) if m else [], _project(workspace))


class QCController(Controller):
    path = "/api"
    tags = ["qc"]

    @get("/queue", sync_to_thread=True)
    def queue(self, settings: Settings, ledger: Ledger, workspace: Workspace, qc: QCSync) -> ReviewQueue:
        """The human review queue: every sampled build in build/ that no person has reviewed yet (all flagged
        and rejected builds, plus the brand's share of auto-approved ones), riskiest first."""
        sync_for_read(qc, workspace)
        return review_queue_view(ledger, settings.build, _project(workspace), qc.digests)

    @get("/videos/{brand:str}/{slug:str}/qc", sync_to_thread=True)
    def video_qc(self, brand: str, slug: str, book: StateBook, settings: Settings, ledger: Ledger,
                 workspace: Workspace, qc: QCSync,
                 format: str | None = Parameter(default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$")) -> QCView:
        """The QC of the build in build/ (of a further format with `format`): verdict and findings, worst first,
        each with its scene, time, reason and spec location. 404 when the build has no QC report."""
        out = _qc_of(brand, slug, format, book, settings, ledger, workspace, qc)
        if out is None:
            raise NotFoundException(f"no QC report for the build of {video_id(brand, slug)}")
        return out


class QCPages(Controller):
    include_in_schema = False

    @get("/queue", sync_to_thread=True)
    def queue(self, request: Request, settings: Settings, ledger: Ledger, workspace: Workspace,
              qc: QCSync) -> Template:
        sync_for_read(qc, workspace)
        q = review_queue_view(ledger, settings.build, _project(workspace), qc.digests)
        return Template("queue.html", context={**_context(request), "q": q, "fmt_time": fmt_time})

    @get("/queue/items", sync_to_thread=True)
    def queue_items(self, request: Request, settings: Settings, ledger: Ledger, workspace: Workspace,
                    qc: QCSync) -> Template:
        """The queue's list alone: the page swaps it in when a `queue` message arrives."""
        q = review_queue_view(ledger, settings.build, _project(workspace), qc.digests)
        return Template("queue_items.html", context={"q": q, "fmt_time": fmt_time})

    @get("/videos/{brand:str}/{slug:str}/qc-section", sync_to_thread=True)
    def qc_section(self, brand: str, slug: str, book: StateBook, settings: Settings, ledger: Ledger,
                   workspace: Workspace, qc: QCSync) -> Template:
        """The Video page's QC section alone: swapped in when a new build's QC lands."""
        view = _qc_of(brand, slug, None, book, settings, ledger, workspace, qc)
        vid = video_id(brand, slug)
        others = [o for o in (_qc_of(brand, slug, u.partition("@")[2], book, settings, ledger, workspace, qc)
                              for u in discover(settings.root) if u.partition("@")[0] == vid and "@" in u) if o]
        return Template("qc_section.html", context={"qc": view, "others": others, "fmt_time": fmt_time})
