"""Where the project and its data live, found in one place for the compiler, publishing and the server.

The project folder is, in order: an explicit `root`, `$SHOWRUNNER_ROOT`, the nearest folder at or above the
current directory that holds `brands/` and `recipes/`, and finally the folder this code is installed from
(a development checkout). Data folders and the ledger URL derive from it unless the environment overrides
them. Secrets never live here: API keys are read from the environment by the clients that need them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

CODE_ROOT = Path(__file__).resolve().parents[1]
LEDGER_DIR = ".showrunner"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The machine's Showrunner folder, outside any repo: OAuth tokens, client secrets, the studio token.
    `$SHOWRUNNER_CONFIG_DIR`, else `$XDG_CONFIG_HOME/showrunner`, else `~/.config/showrunner`."""
    env = os.environ if env is None else env
    if env.get("SHOWRUNNER_CONFIG_DIR"):
        return Path(env["SHOWRUNNER_CONFIG_DIR"]).expanduser()
    base = Path(env["XDG_CONFIG_HOME"]).expanduser() if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "showrunner"


def find_root(root: Path | str | None = None, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    env = os.environ if env is None else env
    if root:
        return Path(root).expanduser().resolve()
    if env.get("SHOWRUNNER_ROOT"):
        return Path(env["SHOWRUNNER_ROOT"]).expanduser().resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "brands").is_dir() and (folder / "recipes").is_dir():
            return folder
    return CODE_ROOT


@dataclass(frozen=True)
class Settings:
    root: Path
    cache: Path
    build: Path
    db_url: str
    env: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False, compare=False)

    @classmethod
    def load(cls, root: Path | str | None = None, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        r = find_root(root, env)
        cache = Path(env["SHOWRUNNER_CACHE"]).expanduser().resolve() if env.get("SHOWRUNNER_CACHE") else r / "cache"
        db_url = env.get("SHOWRUNNER_DB_URL") or f"sqlite:///{(r / LEDGER_DIR / 'ledger.db').resolve()}"
        return cls(root=r, cache=cache, build=r / "build", db_url=db_url, env=env)
