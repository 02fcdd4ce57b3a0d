"""What the doit tasks call: auth, approve, publish, analytics. Each prints for humans and returns data.

`root` and `db_url` default to what `core.settings.Settings` finds: $SHOWRUNNER_ROOT or the project folder
around the current directory, and SHOWRUNNER_DB_URL or the SQLite ledger in its .showrunner/.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.settings import Settings
from . import auth as oauth
from .approval import Decision, record_decision
from .channels import Channels
from .errors import ChannelMismatch, ConfigError, PublishError
from .ledger import Ledger
from .models import Hold
from .plan import ApiCall, approval_state
from .models import utcnow
from .publisher import Outcome, Publisher, PublishOptions, check_publish_at
from .qcstore import record_feedback
from .units import discover, load_unit

Out = Callable[[str], None]


def _root(root: Path | str | None) -> Path:
    return Settings.load(root).root


@dataclass
class PublishReport:
    outcomes: list[Outcome]

    @property
    def ok(self) -> bool:
        return not any(o.failed for o in self.outcomes)

    def by_status(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for o in self.outcomes:
            out.setdefault(o.status, []).append(o.unit)
        return out

    def summary(self) -> str:
        counts = Counter(o.status for o in self.outcomes)
        order = ["published", "updated", "up-to-date", "dry-run", "not-approved", "refused", "failed"]
        return ", ".join(f"{counts[k]} {k.replace('-', ' ')}" for k in order if counts[k]) or "nothing to do"


def publish(units: list[str] | None = None, dry_run: bool = False, replace: bool = False, *,
            root: Path | str | None = None, db_url: str | None = None, out: Out = print,
            chunk: int | None = None) -> PublishReport:
    """Publish every approved unit (or the named ones). Safe to repeat and to interrupt."""
    settings = Settings.load(root)
    root = settings.root
    ledger = Ledger.open(db_url, root=root)
    try:
        options = PublishOptions(dry_run=dry_run, replace=replace, chunk=chunk, retry_failed=bool(units))
        publisher = Publisher(root, ledger, options=options, out=out, env=settings.env)
        report = PublishReport(publisher.run(units))
        out(f"publish: {report.summary()}")
        for line in publisher.quota_summaries():
            out("  " + line)
        return report
    finally:
        ledger.close()


def approve(unit: str, reviewer: str, reason: str = "", approved: bool = True, *,
            root: Path | str | None = None, db_url: str | None = None, out: Out = print,
            publish_at: dt.datetime | None = None) -> Decision:
    """Record a review decision for the unit's current build (what build/ holds right now) together
    with everything publishing would send for it under the brand's current `channel:` settings; with
    `publish_at`, also that explicit publish time (a publish with another time is then refused)."""
    root = _root(root)
    built = load_unit(root, unit)
    if publish_at is not None:
        publish_at = check_publish_at(publish_at, utcnow())
    ledger = Ledger.open(db_url, root=root)
    try:
        try:
            state = approval_state(built, Channels(root, ledger).channel_of(built.brand), publish_at=publish_at)
        except PublishError:
            if approved:
                raise  # what cannot be published cannot be approved; the message says why
            state = None  # a rejection needs no publish state
        try:
            d = record_decision(ledger, unit, built.build_digest, reviewer=reviewer, approved=approved, reason=reason,
                                publish_state=state)
        except ValueError as exc:
            raise ConfigError(str(exc), unit=unit) from None
        # the decision with the QC scores of this build, for `doit calibrate` (free text only: no reason codes)
        record_feedback(ledger, unit, built.brand, built.build_digest, decision="approve" if approved else "reject",
                        reasons=[])
        verb = "approved" if approved else "rejected"
        out(f"{unit}: build {d.build_digest[:12]} {verb} by {d.reviewer}" + (f" ({d.reason})" if d.reason else ""))
        if approved and state is not None:
            st = state["status"]
            out(f"  covers: channel {state['channel']}, privacy {st['privacyStatus']}, schedule "
                f"{st['schedule'] or 'none'}, made for kids {str(st['selfDeclaredMadeForKids']).lower()}, "
                f"AI-content disclosure {str(st['containsSyntheticMedia']).lower()}, playlists "
                f"{', '.join(state['playlists']) or 'none'}, category {state['snippet']['categoryId']}, "
                f"language {state['snippet']['defaultLanguage']}"
                + (f", publishAt {st['publishAt']}" if st.get("publishAt") else "")
                + f" (publish digest {d.publish_digest[:12]})")
        return d
    finally:
        ledger.close()


def auth(brand: str, *, root: Path | str | None = None, db_url: str | None = None, out: Out = print,
         open_browser: bool = True, host: str = "localhost") -> dict:
    """Authorise one brand's channel (browser consent) and store its token outside the repo."""
    from .quota import QuotaBook
    from .youtube import Client

    settings = Settings.load(root)
    root, env = settings.root, settings.env
    ledger = Ledger.open(db_url, root=root)
    try:
        channel = Channels(root, ledger, env=env).channel_of(brand)
        oauth.ensure_outside(oauth.token_path(brand, env), root, "the token file")  # before the browser opens
        out(f"auth {brand}: a browser opens; choose the account, then the channel of brand '{brand}'"
            + (f" ({channel.id})" if channel.id else ""))
        creds = oauth.run_flow(open_browser=open_browser, host=host, root=root, env=env)
        info = json.loads(creds.to_json())
        client = Client(brand, creds, QuotaBook(ledger, oauth.project_of(info, env)), out=out)
        try:
            items = client.execute(ApiCall("channels.list", {"part": "id,snippet", "mine": True})).get("items") or []
        finally:
            client.close()
        if not items:
            raise ConfigError("the chosen Google account has no YouTube channel; nothing was saved",
                              hint=f"run `doit auth:{brand}` again and pick the brand account in the chooser")
        got, title = items[0]["id"], items[0].get("snippet", {}).get("title", "?")
        if channel.id and got != channel.id:
            raise ChannelMismatch(f"you chose channel {got} ({title}), but brands/{brand}.yaml says {channel.id}; "
                                  "nothing was saved",
                                  hint=f"run `doit auth:{brand}` again and pick '{brand}''s channel in Google's "
                                       "chooser (brand accounts appear after the Google account)")
        path = oauth.save_token(brand, creds, channel_id=got, channel_title=title, root=root, env=env)
        with ledger.session() as s:
            hold = s.get(Hold, f"auth:{brand}")
            if hold is not None:
                s.delete(hold)
        out(f"authorised brand {brand} as channel {got} ({title}); token saved to {path} (mode 0600)")
        if not channel.id:
            out(f"  next: add `id: {got}` under `channel:` in brands/{brand}.yaml; publishing checks it")
        return {"brand": brand, "channel_id": got, "channel_title": title, "token": str(path)}
    finally:
        ledger.close()


def auth_status(*, root: Path | str | None = None, db_url: str | None = None, out: Out = print) -> dict[str, str]:
    """Which brands are authorised, as which channel, and which need `doit auth:<brand>` again."""
    settings = Settings.load(root)
    root = settings.root
    ledger = Ledger.open(db_url, root=root)
    try:
        status: dict[str, str] = {}
        for path in sorted((root / "brands").glob("*.yaml")):
            brand = path.stem
            token = oauth.token_path(brand, settings.env)
            with ledger.session() as s:
                hold = s.get(Hold, f"auth:{brand}")
            if hold is not None:
                status[brand] = f"needs `doit auth:{brand}` ({hold.reason})"
            elif token.is_file():
                try:
                    info = json.loads(token.read_text(encoding="utf-8"))
                    status[brand] = f"authorised as {info.get('channel_id')} ({info.get('channel_title', '?')})"
                except ValueError:
                    status[brand] = f"token damaged; run `doit auth:{brand}`"
            else:
                status[brand] = f"not authorised; run `doit auth:{brand}`"
            out(f"{brand}: {status[brand]}")
        return status
    finally:
        ledger.close()


def analytics(units: list[str] | None = None, *, root: Path | str | None = None, db_url: str | None = None,
              out: Out = print):
    """Pull and store each published video's daily numbers and retention."""
    from .analytics import AnalyticsPuller

    root = _root(root)
    ledger = Ledger.open(db_url, root=root)
    try:
        return AnalyticsPuller(root, ledger, out=out).run(units)
    finally:
        ledger.close()


def units(root: Path | str | None = None) -> list[str]:
    return discover(_root(root))


def calibrate(brand: str | None = None, *, as_json: bool = False, diff_out: Path | str | None = None,
              root: Path | str | None = None, db_url: str | None = None, out: Out = print) -> list:
    """Fit each brand's QC thresholds to the stored human decisions; print the result and the proposed diff
    (also written to build/.calibrate/<brand>.diff, or `diff_out` for a single brand). The spec is never changed."""
    from .calibrate import calibrate as fit_brand, dumps, propose_diff, render
    from .qcstore import feedback

    root = _root(root)
    ledger = Ledger.open(db_url, root=root)
    try:
        records = feedback(ledger, brand)
    finally:
        ledger.close()
    brands = [brand] if brand else sorted({r.brand for r in records})
    if brand and not (root / "brands" / f"{brand}.yaml").is_file():
        raise ConfigError(f"no brand '{brand}' (brands/{brand}.yaml does not exist)")
    if diff_out and len(brands) != 1:
        raise ConfigError("--out needs --brand: one diff file per brand")
    cals = []
    for b in brands:
        cal = fit_brand(b, [r for r in records if r.brand == b])
        if (root / "brands" / f"{b}.yaml").is_file():
            cal = propose_diff(cal, root, out=Path(diff_out) if diff_out else None)
        else:
            cal.problem = f"brands/{b}.yaml does not exist any more: no diff"
        cals.append(cal)
    if as_json:
        out(dumps(cals))
    else:
        for cal in cals:
            out(render(cal))
        if not cals:
            out("no human decisions recorded yet: review builds in the studio or with doit approve first")
    return cals


def learn(brand: str | None = None, *, dry_run: bool = False, as_json: bool = False, root: Path | str | None = None,
          db_url: str | None = None, out: Out = print) -> list:
    """Assign variant arms to new videos (written into their specs unless `dry_run`), report each arm's reward,
    the scenes where viewers leave, and proposals as diffs (build/.learn/<brand>/, never applied)."""
    from compiler.load import load_project
    from .learn import dumps, learn as learn_brand, render, write_outputs

    root = _root(root)
    project = load_project(root)
    if brand and brand not in project.brands:
        raise ConfigError(f"no brand '{brand}' (brands: {', '.join(sorted(project.brands)) or 'none'})")
    ledger = Ledger.open(db_url, root=root)
    try:
        reports = [learn_brand(root, ledger, b, write=not dry_run, project=project)
                   for b in ([brand] if brand else sorted(project.brands))]
    finally:
        ledger.close()
    for r in reports:
        if not dry_run:
            write_outputs(root, r)
    if as_json:
        out(dumps(reports))
    else:
        for r in reports:
            render(r, out)
        if dry_run:
            out("dry run: no spec was changed")
    return reports
