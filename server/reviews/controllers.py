from __future__ import annotations

from pathlib import Path

from litestar import Controller, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import Parameter

from core.settings import Settings
from publish.ledger import Ledger
from publish.reviews import REASON_CODES, reason_label
from ..ids import video_id
from ..previews.services import read_build_digest
from ..qc.services import QCSync
from . import services
from .schemas import ReasonOut, ReviewIn, ReviewOut


class ReviewController(Controller):
    path = "/api"
    tags = ["reviews"]

    @get("/reasons", sync_to_thread=False)
    def reasons(self) -> list[ReasonOut]:
        """The fixed vocabulary of review reasons."""
        return [ReasonOut(code=c, label=reason_label(c)) for c in REASON_CODES]

    @post("/videos/{brand:str}/{slug:str}/reviews", status_code=201, sync_to_thread=True)
    def review(self, brand: str, slug: str, data: ReviewIn, settings: Settings, ledger: Ledger,
               qc: QCSync) -> ReviewOut:
        """Approve, request changes or reject the build in build/ (the one the reviewer watched); a reviewed build
        leaves the review queue."""
        try:
            out = services.submit(settings.root, ledger, video_id(brand, slug), data)
        except services.ReviewConflict as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        qc.announce([out.unit])
        return out

    @get("/videos/{brand:str}/{slug:str}/reviews", sync_to_thread=True)
    def history(self, brand: str, slug: str, settings: Settings, ledger: Ledger,
                format: str | None = Parameter(default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$")) -> list[ReviewOut]:
        """Every review of the video's unit, newest first."""
        video = video_id(brand, slug)
        unit = services.unit_key(video, format)
        folder = Path(video, format) if format else Path(video)
        if not (settings.build / folder).is_dir() and not services.history(ledger, unit):
            raise NotFoundException(f"no build and no reviews for {unit}")
        return services.history(ledger, unit, read_build_digest(settings.build, folder.as_posix()))
