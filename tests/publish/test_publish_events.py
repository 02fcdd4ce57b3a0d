"""The publisher reports through a core.events.Reporter; the CLI's lines are those events printed."""
from __future__ import annotations

from core.events import Event, ListReporter

from publish.printer import LinePrinter, line_of
from publish.publisher import Publisher, PublishOptions
from publish_support import CHUNK, assert_published

UPLOAD = "/upload/youtube/v3/videos"


def test_publishing_emits_typed_events_that_print_as_the_cli_lines(world):
    world.fake.inject("status", method="PUT", path=UPLOAD, when=lambda r: r.is_chunk, times=1, code=503)
    world.build()
    world.approve()
    events = ListReporter()
    ledger = world.ledger()
    outcomes = Publisher(world.root, ledger, options=PublishOptions(chunk=CHUNK), reporter=events).run()
    assert [o.status for o in outcomes] == ["published"]
    assert_published(world)

    unit = "cosmos/dark-sky"
    framing = [e.detail for e in events.of("publish") if not e.step]
    assert framing[0].startswith(f"publish {unit} (build ")
    assert framing[-1] == f"published: {unit} https://youtu.be/{outcomes[0].video_id}"
    assert {e.step for e in events.of("publish")} == {"", unit, "cosmos"}  # "cosmos": the channel check
    assert all(e.video == unit for e in events.of("progress"))
    fractions = [e.fraction for e in events.of("progress")]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [e.step for e in events.of("retry")] == ["cosmos"]  # the client's retry, by brand
    assert "503" in events.of("retry")[0].detail

    lines: list[str] = []
    printer = LinePrinter(lines.append)
    for e in events.events:
        printer.emit(e)
    assert lines[0] == framing[0] and lines[-1] == framing[-1]
    assert all(line.startswith("  ") for line in lines[1:-1])


def test_line_layout():
    assert line_of(Event(type="publish", detail="published: a/b")) == "published: a/b"
    assert line_of(Event(type="publish", step="a/b", detail="thumbnail set")) == "  thumbnail set"
    assert line_of(Event(type="warning", step="a/b", detail="locked")) == "  warning: locked"
    assert line_of(Event(type="retry", step="a", detail="videos.list: 503; retrying in 1.0 s")) == \
        "  videos.list: 503; retrying in 1.0 s"
