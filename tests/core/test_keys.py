"""Keys are stable where they must be and sensitive where they must be."""
from __future__ import annotations

import shutil

from support import session, write
from core.keys import action_key, canonical_json


def keys(root):
    s = session(root)
    return s, {sid: s.engine.key(sid)[0] for sid in s.plan().steps if not s.plan().steps[sid].deps()}


def test_canonical_json_ignores_dict_order():
    a = {"kind": "x", "params": {"b": 1, "a": [1, 2]}, "inputs": {}}
    b = {"inputs": {}, "params": {"a": [1, 2], "b": 1}, "kind": "x"}
    assert canonical_json(a) == canonical_json(b)
    assert action_key(a) == action_key(b)
    assert action_key(a) != action_key({**a, "params": {"b": 2, "a": [1, 2]}})


def test_keys_do_not_depend_on_where_the_project_lives(mini, tmp_path):
    other = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(mini, other)
    _, k1 = keys(mini)
    _, k2 = keys(other)
    assert k1 == k2
    s = session(mini)
    plan_json = s.plan().model_dump_json()
    assert str(mini) not in plan_json and str(tmp_path) not in plan_json


def test_editing_one_narration_changes_only_that_key(mini):
    _, before = keys(mini)
    alpha = mini / "videos/test/alpha.yaml"
    alpha.write_text(alpha.read_text().replace("Second scene shows a picture.", "Second scene shows a photo."))
    _, after = keys(mini)
    changed = {k for k in before if before[k] != after.get(k)}
    # (and the narration's embedding, which the brand's similarity checks read)
    assert changed == {"test/alpha/narration/01", "test/alpha/scriptfiles", "test/_qc/embed/alpha"}


def test_slide_title_changes_slide_not_narration(mini):
    _, before = keys(mini)
    alpha = mini / "videos/test/alpha.yaml"
    alpha.write_text(alpha.read_text().replace("title: Hello", "title: Howdy"))
    _, after = keys(mini)
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed == {"test/alpha/tiny/slide/00", "test/alpha/scriptfiles"}


def test_template_media_salt_and_fingerprint_change_keys(mini):
    s, before = keys(mini)
    tpl = mini / "recipes/templates/slide/default.html.j2"
    tpl.write_text(tpl.read_text() + "\n<!-- tweak -->\n")
    _, after = keys(mini)
    assert before["test/alpha/tiny/slide/00"] != after["test/alpha/tiny/slide/00"]
    assert before["test/alpha/narration/00"] == after["test/alpha/narration/00"]
    # a salt re-rolls generated steps of that video only
    alpha = mini / "videos/test/alpha.yaml"
    alpha.write_text("salt: v2\n" + alpha.read_text())
    _, salted = keys(mini)
    assert salted["test/alpha/narration/00"] != after["test/alpha/narration/00"]
    assert salted["test/beta/narration/00"] == after["test/beta/narration/00"]
    # a different tool version means a different key
    s2 = session(mini)
    sid = "test/beta/narration/00"
    k0 = s2.engine.key(sid)[0]
    s3 = session(mini)
    s3.engine.tools.data["tts.espeak"] = {"espeak-ng": "some other version"}
    assert s3.engine.key(sid)[0] != k0


def test_layered_defaults_resolve_closest_wins(mini):
    brand = mini / "brands/test.yaml"
    write(mini / "recipes/explainer.yaml", "formats: [tiny]\ndefaults: {pad: 0.5}\n")
    write(mini / "videos/test/gamma.yaml", """\
        format: tiny
        pad: 0.7
        scenes:
          - narration: Uses the video pad.
          - narration: Uses its own pad.
            pad: 0.9
        """)
    s = session(mini)
    assert s.plan().steps["test/gamma/tiny/segment/00"].params["pad"] == 0.7
    assert s.plan().steps["test/gamma/tiny/segment/01"].params["pad"] == 0.9
    assert s.plan().steps["test/beta/tiny/segment/00"].params["pad"] == 0.5  # recipe beats brand (0.2)
    assert brand.exists()
