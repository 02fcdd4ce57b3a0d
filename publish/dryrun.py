"""`doit publish --dry-run`: the exact calls a run would send, with notes and the quota they cost.

Nothing here talks to YouTube or writes the ledger; the publisher works out the plan (the next
free slot, what the ledger says is applied) and this module turns it into calls and lines.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .channels import mine_call
from .models import PublishedVideo, PublishRecord
from .plan import NEW_VIDEO, ApiCall, Desired, PlannedStep, insert_call, new_video_steps, verify_call
from .quota import estimate
from .units import BuildUnit


def unfinished_notes(pending: list[PublishRecord], video_sha: str) -> list[str]:
    """What happens first to uploads an earlier run left unfinished."""
    return [f"first: record #{rec.id} (build {rec.build_digest[:12]}) has an unfinished upload "
            f"({rec.bytes_sent}/{rec.total_bytes} bytes); it is "
            + ("resumed from YouTube's Range" if rec.video_sha256 == video_sha else "checked and adopted or dropped")
            for rec in pending]


@dataclass
class DryRun:
    unit: BuildUnit
    channel_id: str
    desired: Desired
    calls: list[ApiCall]
    notes: list[str]

    @classmethod
    def upload(cls, unit: BuildUnit, channel_id: str, desired: Desired, *, pending: list[PublishRecord],
               replacing: PublishedVideo | None, chunk: int) -> "DryRun":
        """A new video: insert, read back, then thumbnail, captions and playlists."""
        notes = unfinished_notes(pending, unit.digests["video.mp4"])
        if replacing is not None:
            notes.append(f"--replace: https://youtu.be/{replacing.youtube_video_id} is left as it is and marked "
                         "superseded")
        calls = [insert_call(desired, chunk), verify_call(NEW_VIDEO)]
        return cls._with_steps(unit, channel_id, desired, calls, new_video_steps(desired), notes)

    @classmethod
    def update(cls, unit: BuildUnit, channel_id: str, desired: Desired, *, pending: list[PublishRecord],
               planned: list[PlannedStep], notes: list[str]) -> "DryRun":
        """The video is on YouTube: only what changed."""
        notes = unfinished_notes(pending, unit.digests["video.mp4"]) + notes
        return cls._with_steps(unit, channel_id, desired, [], planned, notes)

    @classmethod
    def _with_steps(cls, unit: BuildUnit, channel_id: str, desired: Desired, calls: list[ApiCall],
                    steps: list[PlannedStep], notes: list[str]) -> "DryRun":
        first = mine_call(note=f"check that the token acts as channel {channel_id}")
        return cls(unit, channel_id, desired, [first, *calls, *(c for s in steps for c in s.calls)], notes)

    @property
    def head(self) -> str:
        return (f"dry run: {self.unit.key} (build {self.unit.build_digest[:12]}) -> channel {self.channel_id}; "
                "nothing is sent")

    def lines(self) -> list[str]:
        """The notes, each call as indented JSON, and the quota the calls would cost."""
        need = estimate([c.method for c in self.calls])
        return ([f"note: {note}" for note in self.notes]
                + [json.dumps(c.to_json(), indent=2, ensure_ascii=False).replace("\n", "\n  ") for c in self.calls]
                + ["quota: " + ", ".join(f"{v} {'units' if k == 'shared' else k + ' call(s)'}"
                                         for k, v in sorted(need.items()))])
