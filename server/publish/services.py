"""The real publisher, run for one unit: a dry run inline, a publish as a background job.

Jobs report through the Publisher's `reporter=`: every event is kept on the job (its lines) and streamed to
the browser as a `job` message; the outcome (with the YouTube link, or the actionable error) ends the job.
"""
from __future__ import annotations

import datetime as dt
import secrets
import threading
from pathlib import Path
from typing import Mapping

from litestar.exceptions import ClientException

from core.events import Event, Fanout, ListReporter, Reporter
from publish.ledger import Ledger
from publish.errors import ConfigError
from publish.publisher import Outcome, PublishOptions, Publisher, check_publish_at
from publish.schedule import rfc3339
from ..broker import Broker, BrokerReporter
from .schemas import DryRunOut, JobOut

MAX_JOBS = 100


def _line(e: Event) -> str:
    return e.detail


def parse_publish_at(text: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """The request's publish_at as aware UTC; 400 (ClientException) when it is not at least 10 minutes ahead."""
    if not text:
        return None
    try:
        at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return check_publish_at(at, now or dt.datetime.now(dt.timezone.utc))
    except ValueError:
        raise ClientException(f"publish_at: {text!r} is not an RFC 3339 time") from None
    except ConfigError as exc:
        raise ClientException(f"publish_at: {exc.message}") from None


def without_outcome(lines: list[str], outcome: Outcome) -> list[str]:
    """The run's lines less the outcome's own closing line when the outcome's message is shown beside them (a
    refusal or a "not approved" would otherwise be said twice, once in the lines and once as the message)."""
    if not outcome.message:
        return lines
    return [ln for ln in lines if ln != outcome.line]


def dry_run(root: Path, ledger: Ledger, unit: str, *, replace: bool = False,
            publish_at: dt.datetime | None = None, env: Mapping[str, str] | None = None) -> DryRunOut:
    events = ListReporter()
    publisher = Publisher(root, ledger, options=PublishOptions(dry_run=True, replace=replace, publish_at=publish_at),
                          reporter=events, env=env)
    outcome = publisher.run([unit])[0]
    return DryRunOut(unit=unit, status=outcome.status, message=outcome.message if outcome.status != "dry-run" else "",
                     lines=without_outcome([_line(e) for e in events.events if e.detail and e.type != "progress"],
                                           outcome),
                     calls=outcome.calls, warnings=outcome.warnings,
                     publish_at=rfc3339(publish_at) if publish_at else "")


class _JobReporter:
    def __init__(self, job: JobOut) -> None:
        self.job = job

    def emit(self, event: Event) -> None:
        if event.type == "progress":
            self.job.fraction = event.fraction
        elif event.detail:
            self.job.lines.append(event.detail)


class Jobs:
    """Publish jobs (one per unit at a time; the ledger's lease guards against other processes)."""

    def __init__(self, root: Path, ledger: Ledger, broker: Broker | None = None,
                 publisher_factory=None, env: Mapping[str, str] | None = None) -> None:
        self.root, self.ledger, self.broker = root, ledger, broker
        self._jobs: dict[str, JobOut] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._shown: set[tuple[str, str]] = set()  # (unit, publishAt) pairs a dry run has shown
        self.publisher_factory = publisher_factory or (
            lambda reporter, replace, publish_at=None: Publisher(
                root, ledger, options=PublishOptions(replace=replace, publish_at=publish_at), reporter=reporter,
                env=env))

    def shown(self, unit: str, publish_at: dt.datetime) -> None:
        """A dry run showed this publishAt for the unit: a Schedule with it may start."""
        with self._lock:
            self._shown.add((unit, rfc3339(publish_at)))

    def get(self, job_id: str) -> JobOut | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.model_copy(deep=True) if job else None

    def running_for(self, unit: str) -> JobOut | None:
        with self._lock:
            return next((j for j in self._jobs.values() if j.unit == unit and j.state == "running"), None)

    def start(self, unit: str, *, replace: bool = False, publish_at: dt.datetime | None = None) -> JobOut:
        """Start a publish job; with `publish_at` (Schedule) only after a dry run showed that publishAt (409)."""
        with self._lock:
            if publish_at is not None and (unit, rfc3339(publish_at)) not in self._shown:
                raise ClientException("run the dry run with this publish time first: it shows exactly what "
                                      "will be sent", status_code=409)
            busy = next((j for j in self._jobs.values() if j.unit == unit and j.state == "running"), None)
            if busy is not None:
                return busy.model_copy(deep=True)
            job = JobOut(id=secrets.token_hex(8), unit=unit, state="running")
            self._jobs[job.id] = job
            while len(self._jobs) > MAX_JOBS:
                oldest = next(k for k, j in self._jobs.items() if j.state != "running")
                del self._jobs[oldest]
        t = threading.Thread(target=self._run, args=(job, replace, publish_at), name=f"publish-{job.id}", daemon=True)
        self._threads[job.id] = t
        t.start()
        return job.model_copy(deep=True)

    def wait(self, job_id: str, timeout: float = 30.0) -> None:
        t = self._threads.get(job_id)
        if t is not None:
            t.join(timeout)

    def _publish(self, job: JobOut) -> None:
        if self.broker is not None:
            self.broker.publish("job", job.model_dump_json())

    def _run(self, job: JobOut, replace: bool, publish_at: dt.datetime | None = None) -> None:
        sinks: list[Reporter] = [_JobReporter(job)]
        if self.broker is not None:
            sinks.append(BrokerReporter(self.broker, "job-event"))
        try:
            factory = self.publisher_factory
            publisher = factory(Fanout(*sinks), replace, publish_at) if publish_at else factory(Fanout(*sinks), replace)
            outcome: Outcome = publisher.run([job.unit])[0]
            job.status, job.video_id, job.message = outcome.status, outcome.video_id, outcome.message
            job.lines[:] = without_outcome(job.lines, outcome)
            job.url = f"https://youtu.be/{outcome.video_id}" if outcome.video_id else ""
            job.state = "failed" if outcome.failed or outcome.status == "not-approved" else "done"
        except Exception as exc:  # a bug must not take the server down; the job says what happened
            job.state, job.status, job.message = "failed", "failed", f"{exc.__class__.__name__}: {exc}"
        self._publish(job)
