"""Scene thumbnails: one small JPEG frame per scene of a built video, made once per (video digest, scene index).

Frames come from the video's blob in the store (by digest: never a path from a request) with ffmpeg, on this
module's own worker thread: the page asks for the ones it shows (`want`), the build worker after each build; the
`/thumbs/<digest>/<index>.jpg` route serves a cached frame, or waits briefly for one that is being made. Cached
under cache/studio/thumbs/<digest[:2]>/<digest>-<index>.jpg, written to a temp file and renamed (atomic).
"""
from __future__ import annotations

import os
import queue
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Iterable

from core.records import BuildManifest
from core.store import Store

WIDTH = 192          # px; the scene list shows them at ~96 css px, sharp on 2x screens
MAX_SCENES = 500
FFMPEG_TIMEOUT_S = 30


def frame_time(start_s: float, end_s: float) -> float:
    """The middle of the scene (its first frames are often still the previous scene's crossfade)."""
    return max(0.0, (start_s + max(end_s, start_s)) / 2)


class SceneThumbs:
    def __init__(self, cache_dir: Path, store: Store, *, ffmpeg: str = "ffmpeg") -> None:
        self.dir = cache_dir
        self.store = store
        self.ffmpeg = ffmpeg
        self._want: dict[tuple[str, int], float] = {}   # (digest, index) -> time, the frames that may be made
        self._events: dict[tuple[str, int], threading.Event] = {}
        self._queue: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.made = 0    # frames made by ffmpeg (tests: each is made once)
        self.failed = 0

    def path(self, digest: str, index: int) -> Path:
        return self.dir / digest[:2] / f"{digest}-{index:03d}.jpg"

    @staticmethod
    def url(digest: str, index: int) -> str:
        return f"/thumbs/{digest}/{index}.jpg"

    def want(self, digest: str, times: Iterable[tuple[int, float]]) -> None:
        """Queue the frames of the video `digest` that are not cached yet: (scene index, time in seconds)."""
        if not digest:
            return
        todo = []
        with self._lock:
            for index, t in list(times)[:MAX_SCENES]:
                key = (digest, index)
                if key in self._want:
                    continue
                self._want[key] = t
                if not self.path(digest, index).is_file():
                    self._events[key] = threading.Event()
                    todo.append(key)
            if todo and self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="studio-thumbs", daemon=True)
                self._thread.start()
        for key in todo:
            self._queue.put(key)

    def want_scenes(self, m: BuildManifest | None) -> None:
        if m is not None and "video.mp4" in m.assets:
            self.want(m.assets["video.mp4"].digest, [(sc.index, frame_time(sc.start_s, sc.end_s)) for sc in m.scenes])

    def get(self, digest: str, index: int, timeout: float = 10.0) -> Path | None:
        """The cached frame; waits up to `timeout` for one being made; None when unknown or it failed."""
        path = self.path(digest, index)
        if path.is_file():
            return path
        with self._lock:
            ev = self._events.get((digest, index))
        if ev is None:
            return None
        ev.wait(timeout)
        return path if path.is_file() else None

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(5)

    def _loop(self) -> None:
        while True:
            key = self._queue.get()
            if key is None:
                return
            try:
                self._make(*key)
            except Exception:  # a frame is a nicety: the scene list shows without it
                self.failed += 1
            finally:
                with self._lock:
                    ev = self._events.pop(key, None)
                if ev is not None:
                    ev.set()

    def _make(self, digest: str, index: int) -> None:
        out = self.path(digest, index)
        if out.is_file():
            return
        src = self.store.blob_path(digest)
        if not src.is_file():
            self.failed += 1
            return
        t = self._want.get((digest, index), 0.0)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".jpg")
        os.close(fd)
        try:
            cmd = [self.ffmpeg, "-nostdin", "-v", "error", "-y", "-ss", f"{t:.3f}", "-i", str(src), "-frames:v", "1",
                   "-vf", f"scale={WIDTH}:-2", "-q:v", "5", "-f", "image2", "-c:v", "mjpeg", tmp]
            r = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT_S)
            if r.returncode != 0 or os.path.getsize(tmp) == 0:
                # past the end (a rounding at the last scene): the first frame of the scene instead
                cmd[cmd.index("-ss") + 1] = f"{max(0.0, t - 1.0):.3f}"
                r = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT_S)
            if r.returncode != 0 or os.path.getsize(tmp) == 0:
                self.failed += 1
                return
            os.replace(tmp, out)
            self.made += 1
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
