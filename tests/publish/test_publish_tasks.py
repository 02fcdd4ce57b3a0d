"""The doit tasks: cheap to import, and `doit publish`, `doit publish:<unit> -n`, `doit approve` really work."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from publish.tasks import task_analytics, task_approve, task_auth, task_publish
from publish_support import COSMOS, assert_published

REPO = Path(__file__).resolve().parents[2]
DODO = textwrap.dedent(f"""
    import sys
    sys.path.insert(0, {str(REPO)!r})
    from publish.tasks import task_publish, task_auth, task_analytics, task_approve
    DOIT_CONFIG = {{"backend": "sqlite3", "dep_file": ".doit.db"}}
""")


def test_importing_the_tasks_pulls_in_no_heavy_modules():
    code = ("import sys, publish.tasks; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'google', 'googleapiclient', 'httplib2', "
            "'sqlalchemy', 'alembic', 'google_auth_oauthlib', 'compiler'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_task_dicts(world, monkeypatch):
    world.build("cosmos/dark-sky")
    world.build("cosmos/dark-sky@short", video=world.media["b"])
    monkeypatch.chdir(world.root)
    names = [t["basename"] for t in task_publish()]
    assert names == ["publish", "publish:cosmos/dark-sky", "publish:cosmos/dark-sky@short"]
    assert [t["basename"] for t in task_auth()] == ["auth", "auth:cosmos", "auth:garden"]
    assert {p["name"] for p in task_approve()["params"]} == {"unit", "reviewer", "reason", "reject", "publish_at"}
    assert [p["name"] for p in task_analytics()["params"]] == ["unit"]
    for t in list(task_publish()) + list(task_auth()) + [task_approve(), task_analytics()]:
        assert t["uptodate"] == [False] and t["verbosity"] == 2


def doit(capsys, *args: str) -> tuple[int, str]:
    """Run doit in-process (the subprocess start-up and imports cost ~1.5 s a call on 2 cores)."""
    from doit.cmd_base import ModuleTaskLoader
    from doit.doit_cmd import DoitMain

    tasks = {"task_publish": task_publish, "task_auth": task_auth, "task_analytics": task_analytics,
             "task_approve": task_approve,
             # doit's default outfile is whatever sys.stdout was when doit was first imported in this process
             "DOIT_CONFIG": {"backend": "sqlite3", "dep_file": ".doit.db", "outfile": sys.stdout}}
    code = DoitMain(ModuleTaskLoader(tasks)).run(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_doit_list_from_a_real_dodo(world):
    (world.root / "dodo.py").write_text(DODO)
    world.build()
    listed = subprocess.run([sys.executable, "-m", "doit", "list"], cwd=world.root, capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0, listed.stderr
    for name in ("publish ", "publish:cosmos/dark-sky", "auth:cosmos", "approve", "analytics"):
        assert name in listed.stdout


def test_doit_end_to_end(world, monkeypatch, capsys):
    monkeypatch.chdir(world.root)
    monkeypatch.setenv("SHOWRUNNER_UPLOAD_CHUNK_MIB", "0.25")
    world.build()
    code, out = doit(capsys, "approve", "--unit", "cosmos/dark-sky", "--reviewer", "bob", "--reason", "ok")
    assert code == 0 and "approved by bob (ok)" in out, out

    code, out = doit(capsys, "publish:cosmos/dark-sky", "--dry-run")
    assert code == 0 and '"method": "videos.insert"' in out, out
    assert world.fake.requests == []

    code, out = doit(capsys, "publish")
    assert code == 0, out
    assert "100.0%" in out and "published: cosmos/dark-sky" in out
    assert_published(world)

    world.build(video=world.media["b"])
    code, out = doit(capsys, "approve", "--unit", "cosmos/dark-sky", "--reviewer", "bob")
    assert code == 0, out
    code, out = doit(capsys, "publish")
    assert code != 0 and "--replace" in out and "not published: cosmos/dark-sky" in out, out
    code, out = doit(capsys, "publish:cosmos/dark-sky", "--replace")
    assert code == 0, out
    assert len(world.videos(COSMOS)) == 2

    code, out = doit(capsys, "approve", "--unit", "cosmos/dark-sky", "--reject")
    assert code != 0 and "rejection needs a reason" in out
    code, out = doit(capsys, "analytics")
    assert code == 0 and "analytics: cosmos/dark-sky" in out, out
    code, out = doit(capsys, "auth")
    assert code == 0 and f"cosmos: authorised as {COSMOS}" in out, out
