"""Malformed and hostile specs thrown at load, check and plan (issue 9, "Done when").

A hand-written corpus (tests/compiler/hostile/, plus a few generated entries too big to commit)
and hypothesis-generated mutations of a valid video are each written as a third video next to two
good ones. For every input:

- nothing but rendered diagnostics leaves `load_project`/`compile_plan` (a traceback fails the test),
- every diagnostic has a file inside the project and a line:col,
- the good sibling videos still load and compile,
- nothing is read outside the project (the repo's own code, the venv and the standard library
  excepted), no process is started and no code from the project outside recipes/manim/ runs
  (a `sys.addaudithook` hook watches `open`, `os.listdir`/`os.scandir`, `exec`, `subprocess.Popen`,
  `os.system`, `os.exec*`, `os.posix_spawn`, `os.fork`).

Time and memory are bounded by construction (compiler/yamlpos.py: file size, node count, nesting
depth; no aliases), so nothing here measures wall time; hypothesis runs without a deadline.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import ALPHA, REPO
from compiler import yamlpos
from compiler.load import load_project
from compiler.plan import compile_plan

HOSTILE = Path(__file__).parent / "hostile"
GAMMA = "videos/test/gamma.yaml"
GOOD = {"test/alpha", "test/beta"}

# Path confinement (issue 9 items 1-4: media, script, research and template paths stay inside the
# project) is fixed on its own branch; until it is merged these inputs still read or run files
# outside the project. Remove them from this set once it is.


# ----------------------------------------------------------------- guard --

def _real(path) -> str:
    if isinstance(path, int):
        return ""
    return os.path.realpath(os.fsdecode(path))


class Guard:
    """One process-wide audit hook (hooks cannot be removed), active only inside `watch()` and only
    on the thread that is loading."""

    PROCESS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
               "os.forkpty", "pty.spawn")

    def __init__(self) -> None:
        self.thread: int | None = None
        self.busy = False
        self.root = ""
        self.events: list[tuple[str, str]] = []
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        self.libs = tuple(sorted({os.path.realpath(p) + os.sep for p in prefixes}))
        self.repo = os.path.realpath(REPO) + os.sep
        self.installed = False

    def install(self) -> None:
        if not self.installed:
            sys.addaudithook(self)
            self.installed = True

    @contextmanager
    def watch(self, root: Path):
        self.root, self.events = os.path.realpath(root) + os.sep, []
        self.thread = threading.get_ident()
        try:
            yield self.events
        finally:
            self.thread = None

    def readable(self, path: str) -> bool:
        """The project, the libraries, and the repo's own Python code (imported lazily)."""
        if not path or path.startswith(self.libs) or (path + os.sep).startswith(self.root):
            return True
        return path.startswith(self.repo) and (path.endswith((".py", ".pyc")) or os.path.isdir(path))

    def runnable(self, filename: str) -> bool:
        """Code from the libraries, the repo, the project's own manim templates, or generated in memory."""
        if filename.startswith("<"):
            return True
        path = os.path.realpath(filename)
        if path.startswith(self.root):
            return path.startswith(self.root + os.path.join("recipes", "manim") + os.sep)
        return path.startswith(self.libs) or path.startswith(self.repo)

    def __call__(self, event: str, args: tuple) -> None:
        if self.thread != threading.get_ident() or self.busy:
            return
        self.busy = True  # realpath below must not re-enter
        try:
            if event in ("open", "os.listdir", "os.scandir") and args:
                path = _real(args[0]) if args[0] is not None else ""
                if not self.readable(path):
                    self.events.append((event, path))
            elif event == "exec" and args:
                filename = getattr(args[0], "co_filename", "")
                if not self.runnable(filename):
                    self.events.append((event, filename))
            elif event.startswith(self.PROCESS):
                self.events.append((event, repr(args)[:200]))
        finally:
            self.busy = False


GUARD = Guard()


# --------------------------------------------------------------- project --

@pytest.fixture(scope="module")
def fuzz_base(tmp_path_factory, _mini_base) -> Path:
    """The tiny test project plus bait: Python files outside recipes/manim/ that must never run, a
    secret and a picture outside the project that must never be read."""
    top = tmp_path_factory.mktemp("fuzz")
    root = top / "proj"
    shutil.copytree(_mini_base, root)
    (top / "outside").mkdir()
    bait = "RAN = True  # harmless: the guard's `exec` event is what gives it away\n"
    (top / "outside" / "evil.py").write_text(bait)
    (top / "outside" / "secret.txt").write_text("TOKEN=hunter2\n")
    (top / "outside" / "pic.png").write_bytes((root / "videos/test/media/pic.png").read_bytes())
    (root / "videos/test/media/evil.py").write_text(bait)
    (root / "recipes" / "manim").mkdir()  # so that `template: ../../../outside/evil` resolves
    GUARD.install()
    return root


def throw(root: Path, content: bytes):
    """Write `content` as the third video, then load, check and plan under the guard."""
    (root / GAMMA).write_bytes(content)
    with GUARD.watch(root) as events:
        project = load_project(root)
        plan = compile_plan(project)
        plan.model_dump_json()
    assert not events, f"outside the project or executed: {events[:5]}"
    assert GOOD <= set(plan.videos), plan.errors
    err = project.errors.get("test/gamma")
    if err is not None:
        for d in err.diagnostics:
            assert d.line >= 1 and d.col >= 1, f"no line:col: {d.render(snippet=False)}"
            assert not os.path.isabs(d.file) and (root / d.file).exists(), d.file
            d.render()
        err.render()
    for key in plan.errors:  # compile-time errors too are rendered diagnostics, not exception text
        assert key in project.errors or key == "test/gamma", key
    return project, plan, err


# ---------------------------------------------------------------- corpus --

def corpus() -> list:
    params = []
    for f in sorted(HOSTILE.iterdir()):
        params.append(pytest.param(f.name, id=f.name))
    return params


def expectation(content: bytes) -> str | None:
    first = content.split(b"\n", 1)[0]
    if first.startswith(b"# expect:"):
        return first[len(b"# expect:"):].strip().decode()
    return None


@pytest.mark.parametrize("name", corpus())
def test_hostile_corpus(fuzz_base, name):
    content = (HOSTILE / name).read_bytes()
    project, plan, err = throw(fuzz_base, content)
    expect = expectation(content)
    if expect == "ok":
        assert err is None and "test/gamma" not in plan.errors, err and err.render()
    elif expect:
        text = err.render() if err else plan.errors.get("test/gamma", "")
        assert expect in text, text


def generated_corpus() -> dict[str, bytes]:
    """Entries too big to commit: built here, each near or over a limit."""
    over = yamlpos.MAX_FILE_BYTES + 1
    return {
        "oversize": b"format: tiny\nscenes: [{narration: hi}]\n#" + b"x" * over + b"\n",
        "huge_string": ("format: tiny\nscenes:\n  - narration: " + "word " * 180_000 + "\n").encode(),
        "huge_key": ("format: tiny\n" + "k" * 200_000 + ": 1\nscenes: [{narration: hi}]\n").encode(),
        "many_nodes": ("format: tiny\ntags: [" + ",".join(["a"] * (yamlpos.MAX_NODES + 10)) + "]\n").encode(),
        "many_scenes": ("format: tiny\nscenes:\n" + "  - {narration: hi}\n" * 5000).encode(),
        "deep_but_allowed": ("format: tiny\nscenes:\n  - narration: hi\n    visual: {kind: remotion, props: "
                             + "{a: " * 55 + "1" + "}" * 55 + "}\n").encode(),
        "long_line": ("format: tiny\nscenes: [{narration: hi}]\ndescription: " + "x" * 900_000 + "\n").encode(),
    }


@pytest.mark.parametrize("name", sorted(generated_corpus()))
def test_generated_corpus(fuzz_base, name):
    throw(fuzz_base, generated_corpus()[name])


# ------------------------------------------------------------ hypothesis --

ALPHA_SPEC = yaml.safe_load(ALPHA)
FIELDS = [  # where a mutation lands in the valid spec
    ("title",), ("format",), ("description",), ("tags",), ("music",), ("thumbnail",), ("thumbnail", "text"),
    ("voice",), ("pad",), ("transition_s",), ("template",), ("salt",), ("topic",), ("target_length",), ("llm",),
    ("scenes",), ("scenes", 0), ("scenes", 0, "narration"), ("scenes", 0, "visual"), ("scenes", 0, "pad"),
    ("scenes", 0, "chapter"), ("scenes", 0, "visual", "bullets"), ("scenes", 0, "visual", "title"),
    ("scenes", 0, "visual", "kind"), ("scenes", 1, "visual", "motion"), ("scenes", 2, "visual", "start"),
    ("scenes", 2, "visual", "loop"), ("scenes", 1, "visual"), ("scenes", 2), ("unknown_field",),
]
PATH_FIELDS = [("thumbnail", "image"), ("music", "file"), ("research", 0), ("script",), ("scenes", 0, "audio"),
               ("scenes", 0, "visual", "image"), ("scenes", 0, "visual", "template"), ("scenes", 1, "visual", "file"),
               ("scenes", 2, "visual", "file"), ("template",), ("thumbnail", "template")]
HOSTILE_PATHS = ["/etc/passwd", "/etc/hostname", "/dev/zero", "../../../../../../etc/passwd", "../../../outside/pic.png",
                 "../../../outside/secret.txt", "~/.ssh/id_rsa", "$HOME/x.png", "media/../../../../outside/pic.png",
                 "/proc/self/environ", "media/evil.py", "..", ".", "", "media/pic.png\x00.txt", "C:\\Windows\\x.png"]

texts = st.one_of(  # mostly printable text, so that specs also get past the loader into check and plan
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=40),  # every code point: controls, bidi, NEL, ...
)
scalars = st.one_of(
    st.none(), st.booleans(), texts,
    st.integers(min_value=-5, max_value=100_000), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["tiny", "tinyshort", "long", "slide", "clip", "image", "manim", "remotion", "genimage",
                     "avatar", "robot", "joe", "cover", "zoom_in", "crossfade", "media/pic.png", "media/clip.mp4"]),
    st.floats(min_value=1e300, max_value=1.7e308), st.just(10**4000),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.one_of(texts, st.sampled_from(["kind", "file", "narration", "start"])),
                                        inner, max_size=4), max_leaves=12)


def mutate(spec: dict, path: tuple, value) -> dict:
    """Put `value` at `path`, creating mappings as needed; lists that are too short are left alone."""
    cur = spec
    for part in path[:-1]:
        nxt = cur[part] if (isinstance(cur, list) and isinstance(part, int) and part < len(cur)) or \
            (isinstance(cur, dict) and isinstance(cur.get(part), (dict, list))) else None
        if nxt is None:
            if not isinstance(cur, dict):
                return spec
            nxt = cur[part] = {}
        cur = nxt
    last = path[-1]
    if isinstance(cur, dict):
        cur[last] = value
    elif isinstance(cur, list) and isinstance(last, int) and last < len(cur):
        cur[last] = value
    return spec


def dump(spec) -> bytes:
    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=1_000_000).encode()


FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@FUZZ
@given(edits=st.lists(st.tuples(st.sampled_from(FIELDS), values), min_size=1, max_size=4))
def test_mutated_specs_never_escape_as_exceptions(fuzz_base, edits):
    spec = yaml.safe_load(ALPHA)
    for path, value in edits:
        spec = mutate(spec, path, value)
    throw(fuzz_base, dump(spec))


@FUZZ
@given(data=st.binary(max_size=300), at=st.integers(min_value=0, max_value=len(ALPHA)),
       text=st.text(st.characters(codec="utf-8"), max_size=30))
def test_spliced_bytes_and_text_never_escape(fuzz_base, data, at, text):
    """Raw bytes and arbitrary characters dropped into a valid file: encoding, scanner and parser errors."""
    raw = ALPHA.encode()
    throw(fuzz_base, raw[:at] + data + raw[at:])
    source = ALPHA[:at] + text + ALPHA[at:]
    throw(fuzz_base, source.encode("utf-8", errors="surrogatepass"))


@settings(FUZZ)
@given(edits=st.lists(st.tuples(st.sampled_from(PATH_FIELDS), st.sampled_from(HOSTILE_PATHS)), min_size=1, max_size=3))
def test_hostile_paths_stay_inside_the_project(fuzz_base, edits):
    spec = yaml.safe_load(ALPHA)
    for path, value in edits:
        spec = mutate(spec, path, value)
    throw(fuzz_base, dump(spec))


def test_the_guard_sees_reads_outside_and_processes(fuzz_base, tmp_path):
    """The audit hook itself works: a read outside the project and a process start are both seen."""
    import subprocess

    outside = tmp_path / "x.txt"
    outside.write_text("x")
    with GUARD.watch(fuzz_base) as events:
        outside.read_text()
        (fuzz_base / GAMMA).write_text("format: tiny\n")  # inside: fine
        subprocess.run(["true"], check=True)
        exec(compile("1", str(fuzz_base / "videos/test/media/evil.py"), "exec"))
    kinds = [e for e, _ in events]
    assert ("open", os.path.realpath(outside)) in events and "subprocess.Popen" in kinds and "exec" in kinds
