"""A render farm on 127.0.0.1 for tests and the bench: the studio serving its cache as the shared store (uvicorn
in a thread, a free port), and worker processes, each with its own empty cache and home, started in a folder of
their own, so they reach the coordinator's files only through the HTTP store. Redis keys live under a random
namespace (showrunner:test:<hex>) that `close()` deletes."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORKER_TOKEN = secrets.token_urlsafe(32)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Farm:
    def __init__(self, root: Path, tmp: Path, heartbeat_s: float = 1.0, visibility_s: float = 6.0):
        import redis

        self.root, self.tmp = root, tmp
        self.ns = f"showrunner:test:{secrets.token_hex(6)}"
        self.redis = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        self.env = {"SHOWRUNNER_REMOTE_NS": self.ns, "SHOWRUNNER_HEARTBEAT_S": str(heartbeat_s),
                    "SHOWRUNNER_VISIBILITY_S": str(visibility_s), "SHOWRUNNER_PROBE_TORCH": "0"}
        self.workers: dict[str, subprocess.Popen] = {}
        self.server = None
        self.url = ""

    # ------------------------------------------------------------- server --
    def serve(self) -> str:
        import uvicorn

        from core.settings import Settings
        from server.app import create_app

        settings = Settings.load(self.root, env={"SHOWRUNNER_CONFIG_DIR": str(self.tmp / "studio-config"),
                                                 "HOME": str(self.tmp / "studio-home"), **self.env})
        app = create_app(settings, token=secrets.token_urlsafe(32), worker_token=WORKER_TOKEN, watch=False,
                         scan=False, build_fn=lambda *a, **k: None)
        port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                    lifespan="on"))
        threading.Thread(target=self.server.run, daemon=True).start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the studio did not start"
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    # ------------------------------------------------------------ workers --
    def start_worker(self, name: str, models: bool = False, extra_env: dict | None = None,
                     metrics_port: int = 0) -> subprocess.Popen:
        home = self.tmp / f"worker-{name}"
        (home / "cwd").mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWRUNNER_")}
        env.update(self.env, HOME=str(home), PYTHONPATH=str(REPO), FARM_MACHINE=name,
                   SHOWRUNNER_WORKER_TOKEN=WORKER_TOKEN, SHOWRUNNER_CONFIG_DIR=str(home / "config"),
                   XDG_CACHE_HOME=str(home / "xdg-cache"), **(extra_env or {}))
        if models:  # a model folder only this machine has
            (home / "models" / "tiny").mkdir(parents=True, exist_ok=True)
            (home / "models" / "tiny" / "model_index.json").write_text('{"_class_name": "TinyPipeline"}\n')
            env["SHOWRUNNER_MODELS"] = str(home / "models")
        log = open(home / "worker.log", "wb")
        proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "remote" / "boot_worker.py"), "--store", self.url,
                                 "--cache", str(home / "cache"), "--name", name, "--loglevel", "INFO",
                                 "--metrics-port", str(metrics_port), "--metrics-host", "127.0.0.1"],
                                cwd=home / "cwd", env=env, stdout=log, stderr=subprocess.STDOUT)
        self.workers[name] = proc
        return proc

    def machines(self) -> list[dict]:
        from compiler.remote.registry import Registry

        return Registry(self.redis, self.ns).machines()

    def wait_for(self, names: list[str], timeout: float = 90) -> None:
        """Until every named worker is registered and consuming (its Celery consumer is up)."""
        deadline = time.monotonic() + timeout
        while True:
            up = {m["name"] for m in self.machines()}
            if set(names) <= up and self._consuming(names):
                return
            for n in names:
                if self.workers[n].poll() is not None:
                    raise AssertionError(f"worker {n} exited: {self.log(n)[-3000:]}")
            assert time.monotonic() < deadline, f"workers {names} did not start: {self.log(names[0])[-3000:]}"
            time.sleep(0.2)

    def _consuming(self, names: list[str]) -> bool:
        return all(b"ready." in (self.tmp / f"worker-{n}" / "worker.log").read_bytes() for n in names)

    def log(self, name: str) -> str:
        return (self.tmp / f"worker-{name}" / "worker.log").read_text(errors="replace")

    def kill(self, name: str) -> None:
        os.kill(self.workers[name].pid, signal.SIGKILL)
        self.workers[name].wait()

    def close(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.workers.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.server is not None:
            self.server.should_exit = True
        for key in self.redis.scan_iter(match=f"{self.ns}*", count=1000):
            self.redis.delete(key)
