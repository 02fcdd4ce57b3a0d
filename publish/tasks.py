"""doit tasks for publishing. dodo.py imports them: `from publish.tasks import task_publish, ...`.

Importing this module is cheap (no google, SQLAlchemy or Alembic imports): they load when an
action runs. Every task runs every time (`uptodate: [False]`); the ledger decides what to do.

    doit publish                        every approved, unpublished or changed unit
    doit publish:<brand>/<slug> [-n]    one unit; -n/--dry-run prints what would be sent
    doit publish --replace              upload changed video files as new videos
    doit auth                           who is authorised as which channel
    doit auth:<brand>                   OAuth consent for the brand's channel
    doit approve --unit U --reviewer R [--reason T] [--reject]
    doit analytics [--unit U]
    doit calibrate [--brand B] [--json] [--out FILE]
    doit learn [--brand B] [--json] [-n/--dry-run]
"""
from __future__ import annotations

import getpass

from core.settings import Settings
from .units import discover

PUBLISH_PARAMS = [
    {"name": "dry_run", "long": "dry-run", "short": "n", "type": bool, "default": False,
     "help": "print exactly what would be sent to YouTube; send nothing"},
    {"name": "replace", "long": "replace", "type": bool, "default": False,
     "help": "upload a changed video file as a new video (the old one is left as it is)"},
]


def _failed(message: str):
    from doit.exceptions import TaskFailed

    return TaskFailed(message)


def _publish(units, dry_run: bool = False, replace: bool = False):
    from . import cli
    from .errors import PublishError

    try:
        report = cli.publish(units, dry_run=dry_run, replace=replace)
    except PublishError as exc:
        return _failed(exc.render())
    if not report.ok:
        bad = [o.unit for o in report.outcomes if o.failed]
        return _failed(f"{len(bad)} unit(s) not published: {', '.join(bad)} (reasons above)")
    return True


def _auth(brand: str, no_browser: bool = False):
    from . import cli
    from .errors import PublishError

    try:
        cli.auth(brand, open_browser=not no_browser)
    except PublishError as exc:
        return _failed(exc.render())
    return True


def _auth_status():
    from . import cli

    cli.auth_status()
    return True


def _approve(unit: str, reviewer: str, reason: str, reject: bool, publish_at: str = ""):
    import datetime as dt

    from . import cli
    from .errors import PublishError

    if not unit:
        return _failed("say which unit: doit approve --unit <brand>/<slug> --reviewer <name>")
    at = None
    if publish_at:
        try:
            at = dt.datetime.fromisoformat(publish_at.replace("Z", "+00:00"))
        except ValueError:
            return _failed(f"--publish-at {publish_at!r} is not an RFC 3339 time (e.g. 2026-12-01T15:00:00Z)")
    try:
        cli.approve(unit, reviewer, reason, approved=not reject, publish_at=at)
    except PublishError as exc:
        return _failed(exc.render())
    return True


def _analytics(unit: str):
    from . import cli

    reports = cli.analytics([unit] if unit else None)
    errors = [r.error for r in reports if r.error]
    return _failed(f"{len(errors)} video(s) failed (reasons above)") if errors else True


def task_publish():
    """Publish approved builds to YouTube (doit publish, doit publish:<brand>/<slug>, --dry-run, --replace)."""
    yield {"basename": "publish", "actions": [(_publish, [None])], "params": PUBLISH_PARAMS,
           "uptodate": [False], "verbosity": 2, "doc": "publish every approved build that is not on YouTube yet"}
    for key in discover(Settings.load().root):
        yield {"basename": f"publish:{key}", "actions": [(_publish, [[key]])], "params": PUBLISH_PARAMS,
               "uptodate": [False], "verbosity": 2, "doc": f"publish {key}"}


def task_auth():
    """Authorise a brand's YouTube channel (doit auth:<brand>); `doit auth` shows who is authorised."""
    yield {"basename": "auth", "actions": [(_auth_status,)], "uptodate": [False], "verbosity": 2,
           "doc": "show which brands are authorised as which channel"}
    for path in sorted((Settings.load().root / "brands").glob("*.yaml")):
        yield {"basename": f"auth:{path.stem}", "actions": [(_auth, [path.stem])], "uptodate": [False],
               "verbosity": 2, "doc": f"OAuth consent for brand {path.stem}'s channel (opens a browser)",
               "params": [{"name": "no_browser", "long": "no-browser", "type": bool, "default": False,
                           "help": "print the consent URL instead of opening a browser"}]}


def task_approve():
    """Record a review decision for a unit's current build (the publish gate)."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = ""
    return {"actions": [(_approve,)], "uptodate": [False], "verbosity": 2, "params": [
        {"name": "unit", "long": "unit", "short": "u", "default": "", "help": "<brand>/<slug>[@<format>]"},
        {"name": "reviewer", "long": "reviewer", "short": "r", "default": user, "help": "who reviewed it"},
        {"name": "reason", "long": "reason", "default": "", "help": "why (required for --reject)"},
        {"name": "reject", "long": "reject", "type": bool, "default": False, "help": "record a rejection"},
        {"name": "publish_at", "long": "publish-at", "default": "",
         "help": "approve this explicit publish time too (RFC 3339, UTC offset required)"},
    ]}


def task_analytics():
    """Pull YouTube Analytics for published videos into the ledger (daily numbers, retention by scene)."""
    return {"actions": [(_analytics,)], "uptodate": [False], "verbosity": 2, "params": [
        {"name": "unit", "long": "unit", "short": "u", "default": "", "help": "only this unit"},
    ]}


def _calibrate(brand: str, as_json: bool, out: str):
    from . import cli
    from .errors import PublishError

    try:
        cli.calibrate(brand or None, as_json=as_json, diff_out=out or None)
    except PublishError as exc:
        return _failed(exc.render())
    return True


def task_calibrate():
    """Fit the brand's QC thresholds to the human review decisions; print agreement and a proposed spec diff."""
    return {"actions": [(_calibrate,)], "uptodate": [False], "verbosity": 2, "params": [
        {"name": "brand", "long": "brand", "short": "b", "default": "", "help": "only this brand"},
        {"name": "as_json", "long": "json", "type": bool, "default": False, "help": "print JSON"},
        {"name": "out", "long": "out", "default": "",
         "help": "write the diff here (default build/.calibrate/<brand>.diff; needs --brand)"},
    ]}


def _learn(brand: str, as_json: bool, dry_run: bool):
    from . import cli
    from .errors import PublishError

    try:
        cli.learn(brand or None, dry_run=dry_run, as_json=as_json)
    except PublishError as exc:
        return _failed(exc.render())
    return True


def task_learn():
    """Assign variant arms to new videos (Thompson sampling over rewards), report arms, retention notes, proposals."""
    return {"actions": [(_learn,)], "uptodate": [False], "verbosity": 2, "params": [
        {"name": "brand", "long": "brand", "short": "b", "default": "", "help": "only this brand"},
        {"name": "as_json", "long": "json", "type": bool, "default": False, "help": "print JSON"},
        {"name": "dry_run", "long": "dry-run", "short": "n", "type": bool, "default": False,
         "help": "change no spec; only print what would be assigned"},
    ]}
