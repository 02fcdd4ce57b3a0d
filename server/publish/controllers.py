from __future__ import annotations

from litestar import Controller, get, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from core.settings import Settings
from publish.ledger import Ledger
from ..ids import video_id
from ..reviews.services import unit_key
from . import services
from .schemas import DryRunOut, JobOut, PublishIn


class PublishController(Controller):
    path = "/api"
    tags = ["publish"]

    @post("/videos/{brand:str}/{slug:str}/publish/dry-run", status_code=200, sync_to_thread=True)
    def dry_run(self, brand: str, slug: str, data: PublishIn, settings: Settings, ledger: Ledger,
                jobs: services.Jobs) -> DryRunOut:
        """Exactly what publishing would send (or why it would not), without sending anything; with `publish_at`,
        the scheduled upload (private until then), which a Schedule then needs."""
        unit = unit_key(video_id(brand, slug), data.format)
        at = services.parse_publish_at(data.publish_at)
        out = services.dry_run(settings.root, ledger, unit, replace=data.replace, publish_at=at, env=settings.env)
        if at is not None and out.status == "dry-run":
            jobs.shown(unit, at)
        return out

    @post("/videos/{brand:str}/{slug:str}/publish", status_code=202, sync_to_thread=False)
    def publish(self, brand: str, slug: str, data: PublishIn, jobs: services.Jobs) -> JobOut:
        """Start publishing as a background job; progress arrives on /api/events as `job` messages. With
        `publish_at` (Schedule): 409 unless a dry run with the same publish_at came first."""
        unit = unit_key(video_id(brand, slug), data.format)
        return jobs.start(unit, replace=data.replace, publish_at=services.parse_publish_at(data.publish_at))

    @get("/jobs/{job_id:str}", sync_to_thread=False)
    def job(self, jobs: services.Jobs, job_id: str = Parameter(pattern=r"^[0-9a-f]{16}$")) -> JobOut:
        job = jobs.get(job_id)
        if job is None:
            raise NotFoundException("no such job")
        return job
