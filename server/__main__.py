"""`python -m server [--host H] [--port P] [--root DIR] [--login-link]`: run the studio."""
from __future__ import annotations

import argparse
import sys

from core.settings import Settings
from .security import StudioRefused, check_start, is_loopback, token_path


def login_url(host: str, port: int, token: str) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}/login?token={token}"


def main(argv: list[str] | None = None, *, run=None, out=print) -> int:
    p = argparse.ArgumentParser(prog="python -m server", description="Showrunner studio: previews, reviews, publishing")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1; a LAN address "
                   "needs the login token, created on the first start on 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--root", default=None, help="the project folder (default: found from the current folder)")
    p.add_argument("--no-watch", action="store_true", help="do not watch the specs for changes")
    p.add_argument("--login-link", action="store_true", help="print the login link again")
    args = p.parse_args(argv)
    settings = Settings.load(args.root)
    try:
        token, created = check_start(args.host, token_path(settings.env), settings.root)
    except StudioRefused as exc:
        out(f"error: {exc}")
        return 2
    from core import observability

    from .app import create_app

    observability.configure_logging()  # JSON lines (text on a terminal): builds, steps, failures with their ids
    observability.configure_tracing(settings.env, service="showrunner-studio")
    observability.configure_sentry(settings.env)
    app = create_app(settings, token=token, watch=not args.no_watch, host=args.host)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    out(f"Showrunner studio for {settings.root}")
    out(f"  open http://{shown}:{args.port}/")
    if created or args.login_link:
        out(f"  log in (needed to review and publish; shown {'once' if created else 'on request'}): "
            f"{login_url(args.host, args.port, token)}")
    else:
        out(f"  to review and publish, log in with the link printed on the first start "
            f"(again: python -m server --login-link; the token is in {token_path(settings.env)})")
    if not is_loopback(args.host):
        out(f"  listening on {args.host}: every page needs a login")
    if run is None:
        import uvicorn

        run = lambda: uvicorn.run(app, host=args.host, port=args.port, log_level="warning")  # noqa: E731
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
