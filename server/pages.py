"""Server-rendered pages (Jinja2 in web/templates) and the login link; `web/static/app.js` makes them live."""
from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from compiler.workspace import Workspace
from core.settings import Settings
from publish.ledger import Ledger
from publish.reviews import REASONS, REASON_CODES, reason_label
from .analytics.notes import add_retention_notes
from .cas.machines import list_machines
from .ids import video_id
from .previews import views
from .previews.controllers import brand_names
from .previews.provenance import PROVENANCE_ASSETS
from .previews.services import StateBook
from .previews.thumbs import SceneThumbs
from .qc.services import QCSync, sync_for_read
from .reviews.services import history
from .security import SESSION_COOKIE

SESSION_MAX_AGE = 30 * 24 * 3600


def _context(request: Request) -> dict:
    sid = request.app.state.sessions.session_id(request.cookies.get(SESSION_COOKIE))
    qc: QCSync | None = getattr(request.app.state, "qc", None)
    return {"csrf": request.app.state.sessions.csrf_for(sid) if sid else "", "logged_in": sid is not None,
            "queue_count": qc.count() if qc is not None else 0, "path": request.url.path}


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    m, s = divmod(int(seconds), 60)  # floored, like the player's clock and YouTube's chapters
    return f"{m}:{s:02d}"


def fmt_usd(v: float | None) -> str:
    if v is None:
        return ""
    if 0 < v < 0.01:
        return f"${v:.4f}"
    text = f"{v:.3f}"
    return "$" + (text[:-1] if text.endswith("0") else text)  # $0.056, $0.05, $1.50


def fmt_size(n: int | None) -> str:
    if not n:
        return ""
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _history(ledger: Ledger, video: str, d) -> list:
    """Every review of the video's builds (each format's unit), newest first."""
    rows = history(ledger, video, d.summary.build.build_digest)
    for u in d.units[1:]:
        rows += history(ledger, u.unit, u.build_digest)
    return sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)


class PageController(Controller):
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def home(self, request: Request, book: StateBook, settings: Settings, ledger: Ledger,
             workspace: Workspace, qc: QCSync) -> Template:
        sync_for_read(qc, workspace)
        data = views.overview(book, settings.build, ledger, brand_names(workspace))
        return Template("home.html", context={**_context(request), "overview": data, "fmt_time": fmt_time,
                                              "farm": list_machines()})

    @get("/videos/{brand:str}/{slug:str}", sync_to_thread=True)
    def video(self, request: Request, brand: str, slug: str, book: StateBook, settings: Settings, ledger: Ledger,
              workspace: Workspace, thumbs: SceneThumbs, qc: QCSync) -> Template:
        vid = video_id(brand, slug)
        if vid not in views.video_ids(book, settings.build):
            raise NotFoundException(f"no video {vid}")
        sync_for_read(qc, workspace, vid)
        d = add_retention_notes(views.detail(vid, book, settings.build, ledger, workspace, thumbs), settings.build,
                                ledger, workspace)
        reasons = [(area, [(f"{area}.{r}", label) for r, label in rs.items()]) for area, rs in REASONS.items()]
        return Template("video.html", context={
            **_context(request), "d": d, "fmt_time": fmt_time, "fmt_usd": fmt_usd, "fmt_size": fmt_size,
            "reasons": reasons, "main_assets": PROVENANCE_ASSETS, "reason_label": reason_label,
            "codes": REASON_CODES, "history": _history(ledger, vid, d)})

    @get("/login", sync_to_thread=False)
    def login(self, request: Request, token: str | None = None) -> Response:
        sessions = request.app.state.sessions
        if not sessions.check_token(token):
            return Template("login.html", context={"failed": token is not None}, status_code=401)
        resp = Redirect("/", status_code=303)
        resp.set_cookie(SESSION_COOKIE, sessions.new_session(), httponly=True, samesite="strict", path="/",
                        max_age=SESSION_MAX_AGE)
        return resp

    @post("/logout", status_code=303, sync_to_thread=False)
    def logout(self) -> Response:
        resp = Redirect("/", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp
