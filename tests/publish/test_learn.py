"""`doit learn` on a small project and ledger: rewards from analytics and reviews, arms written into new videos'
specs (deterministic, comments kept), retention notes on scenes, proposals as diffs (issue 11, Learning)."""
from __future__ import annotations

import datetime as dt
import json

from support import BRAND, session, write
from compiler.load import load_project
from compiler.resolve import Resolver
from publish import cli
from publish.ledger import Ledger
from publish.learn import reward
from publish.models import AnalyticsDaily, PublishedVideo, RetentionPoint
from publish.qcstore import record_feedback

UTC = dt.timezone.utc
VARIANTS = "variants:\n  voice: [robot, joe]\n  thumbnail_template: [default, bold]\n"
SCENES = "format: tiny\nscenes:\n  - narration: One.\n"


def _publish(ledger: Ledger, vid: str, n: int, view_pct: float) -> None:
    yt = f"yt{n:09d}"
    with ledger.session() as s:
        s.add(PublishedVideo(youtube_video_id=yt, unit=vid, brand="test", channel_id="UCtest", format="tiny",
                             video_sha256="0" * 64, marker="m", privacy="private"))
        s.flush()
        for day in range(3):
            s.add(AnalyticsDaily(youtube_video_id=yt, day=dt.date(2026, 11, 1 + day), unit=vid, views=100 + day,
                                 average_view_percentage=view_pct + day - 1))


def _retention(ledger: Ledger, vid: str) -> None:
    """A 30 s video whose audience falls from 0.9 to 0.4 during scene 1 (10-20 s) and much less elsewhere."""
    curve = [(0.0, 1.0, 0), (0.3, 0.9, 0), (0.34, 0.88, 1), (0.66, 0.42, 1), (0.7, 0.4, 2), (1.0, 0.37, 2)]
    with ledger.session() as s:
        for ratio, watch, scene in curve:
            s.add(RetentionPoint(youtube_video_id="yt000000000", ratio_permille=round(ratio * 1000), unit=vid,
                                 elapsed_ratio=ratio, audience_watch_ratio=watch, at_s=ratio * 30,
                                 scene_index=scene, scene_title=["Hook", "The long bit", "Outro"][scene],
                                 start_day=dt.date(2026, 11, 1), end_day=dt.date(2026, 11, 3)))


def _world(mini):
    write(mini / "brands/test.yaml", BRAND + VARIANTS)
    url = f"sqlite:///{mini / 'ledger.db'}"
    ledger = Ledger.open(url, root=mini)
    for i in range(8):  # four published videos per voice: joe keeps viewers, robot does not
        arm = "joe" if i % 2 else "robot"
        write(mini / f"videos/test/old{i}.yaml", SCENES + f"variant: {{voice: {arm}, thumbnail_template: default}}\n")
        _publish(ledger, f"test/old{i}", i, 62.0 if arm == "joe" else 35.0)
    record_feedback(ledger, "test/old0", "test", "a" * 64, decision="request-changes", reasons=["audio.pacing"])
    _retention(ledger, "test/old0")
    write(mini / "videos/test/topic.yaml", "# written by hand\ntopic: why the sky is dark\nnotes: Calm.\n"
                                            "format: tiny\n")
    return url, ledger


def test_rewards_combine_analytics_and_reviews():
    assert reward(0.5, 0, 0, 0.4) == 0.5
    assert reward(0.5, 2, 1, 0.4) == 0.5 - 0.1
    assert reward(None, 1, 1, 0.4) == 0.4 - 0.2  # sent back before publishing: counts against the arm
    assert reward(None, 1, 0, 0.4) is None and reward(None, 0, 0, 0.4) is None


def test_learn_assigns_new_videos_and_reports(mini):
    url, _ = _world(mini)
    beta_before = (mini / "videos/test/beta.yaml").read_text()
    lines: list[str] = []
    reports = cli.learn("test", root=mini, db_url=url, out=lines.append)
    text = "\n".join(lines)
    r = reports[0]
    # every unpublished, unreviewed video got an arm per open dimension, written into its spec
    assert set(r.assigned) == {"test/alpha", "test/beta", "test/topic"}
    beta_after = (mini / "videos/test/beta.yaml").read_text()
    assert beta_after.startswith(beta_before) and "\n# arms chosen by `doit learn`" in beta_after
    project = load_project(mini)
    lv = project.videos["test/beta"]
    assert lv.spec.model.variant == r.assigned["test/beta"]
    assert Resolver(project, lv).setting("voice") == (r.assigned["test/beta"]["voice"], "variant")
    assert not session(mini).check().errors  # the written specs compile
    # the arms' evidence
    voice = {a.name: a for a in r.dimensions["voice"]}
    assert voice["joe"].videos == 4 and voice["robot"].videos == 4 and voice["joe"].prob_best > 0.99
    assert abs(voice["joe"].mean_reward - 0.62) < 1e-3 and abs(voice["robot"].mean_reward - (0.35 - 0.05)) < 1e-3
    assert "joe                4 video(s)  mean reward     0.620  P(best) 100%" in text
    # the retention drop is a note on its scene, and briefs the next topic-only video's writer
    assert [(n.unit, n.scene, n.title) for n in r.notes] == [("test/old0", 1, "The long bit")]
    assert "note test/old0 scene 2 'The long bit'" in text
    files = {p.file: p for p in r.proposals}
    assert "+  voice: joe" in files["brands/test.yaml"].diff or "voice: joe" in files["brands/test.yaml"].diff
    topic = files["videos/test/topic.yaml"]
    assert "The long bit (test/old0): lost 48% of the audience in 11 s" in topic.diff
    assert (mini / "brands/test.yaml").read_text() == BRAND + VARIANTS  # proposals are never applied
    saved = json.loads((mini / "build/.learn/test.json").read_text())
    assert saved["notes"][0]["scene"] == 1 and (mini / "build/.learn/test/proposal-1.diff").is_file()
    # a second run assigns nothing new and changes no spec
    again = cli.learn("test", root=mini, db_url=url, out=lambda _: None)[0]
    assert again.assigned == {} and (mini / "videos/test/beta.yaml").read_text() == beta_after


def test_assignment_is_deterministic_given_the_video_id(mini):
    url, _ = _world(mini)
    first = cli.learn("test", dry_run=True, root=mini, db_url=url, out=lambda _: None)[0].assigned
    second = cli.learn("test", dry_run=True, root=mini, db_url=url, out=lambda _: None)[0].assigned
    assert first == second and first
    assert "variant" not in (mini / "videos/test/beta.yaml").read_text()  # a dry run writes nothing


def test_a_video_that_fixes_a_setting_gets_no_arm_for_it(mini):
    url, _ = _world(mini)
    write(mini / "videos/test/beta.yaml", (mini / "videos/test/beta.yaml").read_text() + "voice: robot\n")
    (mini / "build/test/alpha").mkdir(parents=True)
    (mini / "build/test/alpha/manifest.json").write_text("{}")
    r = cli.learn("test", dry_run=True, root=mini, db_url=url, out=lambda _: None)[0]
    assert set(r.assigned["test/beta"]) == {"thumbnail_template"}
    assert "test/alpha" not in r.assigned and "already built" in r.skipped["test/alpha"]


def test_a_published_video_with_spec_errors_still_counts(mini):
    url, _ = _world(mini)
    write(mini / "videos/test/old7.yaml", (mini / "videos/test/old7.yaml").read_text() + "colour: red\n")
    assert "test/old7" in load_project(mini).errors
    r = cli.learn("test", dry_run=True, root=mini, db_url=url, out=lambda _: None)[0]
    assert {a.name: a.videos for a in r.dimensions["voice"]} == {"robot": 4, "joe": 4}
    assert "test/old7" not in r.skipped  # published: nothing to assign, nothing to say
