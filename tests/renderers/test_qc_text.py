"""On-screen text QC: planted defects rendered by real Chromium, each caught with its reason and location;
clean frames raise nothing; shrink-to-fit fixes the common case at render time."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from core.qc import REASON_CODES, QCFindings
from core.spec import QCText
from helpers import run_renderer
from renderers._lib.onscreen import contrast_ratio, parse_color
from renderers.qc_text import TextQC, judge
from renderers.slide_html import HtmlSlide
from renderers.thumbnail_html import HtmlThumbnail
from support import REPO

PALETTE = {"background": "#102030", "surface": "#102030", "text": "#ffffff", "accent": "#ff8800", "muted": "#aaaaaa"}
FONTS = {"heading": "DejaVu Sans", "body": "DejaVu Sans"}
SLIDE = REPO / "recipes/templates/slide/default.html.j2"
BOLD = REPO / "recipes/templates/slide/bold.html.j2"
THUMB = REPO / "recipes/templates/thumbnail/default.html.j2"
LOGO = REPO / "brands/media/cosmos-logo.svg"
FIELDS = {"title": ["visual", "title"], "bullets": ["visual", "bullets"], "body": ["visual", "body"]}


def slide(tmp_path, name, template=SLIDE, width=640, height=360, **params):
    params = {"width": width, "height": height, "palette": PALETTE, "fonts": FONTS, "brand": "Test Brand", **params}
    out, facts = run_renderer(HtmlSlide, tmp_path, params, {"template": template, "logo": LOGO}, name=name)
    return out / "slide.png", facts


def thumbnail(tmp_path, name, text, palette=PALETTE):
    out, facts = run_renderer(HtmlThumbnail, tmp_path, {"text": text, "palette": palette, "fonts": FONTS, "brand": "B"},
                              {"template": THUMB, "image": REPO / "videos/cosmos/media/nebula.jpg", "logo": LOGO},
                              name=name)
    return out / "thumbnail.jpg", facts


def qc(tmp_path, slides, thumb, name="qc", thumbnail_field=("thumbnail", "text")) -> QCFindings:
    """Run the qc.text step the way the engine does: the images as inputs, their facts as input facts."""
    params = {"slides": [{"scene": scene, "fields": FIELDS} for scene, _ in slides],
              "thumbnail_field": list(thumbnail_field)}
    out, _ = run_renderer(TextQC, tmp_path, params, {"thumbnail": thumb[0], "slides": [s[1][0] for s in slides]},
                          name=name, input_facts={"thumbnail": thumb[1], "slides": [s[1][1] for s in slides]})
    found = QCFindings.model_validate(json.loads((out / "findings.json").read_text()))
    assert all(f.reason in REASON_CODES for f in found.findings)
    return found


def test_clean_slides_and_thumbnail_raise_nothing(tmp_path):
    clean = slide(tmp_path, "clean", title="Skyglow", bullets=["Light escapes upward", "Air scatters it"])
    bold = slide(tmp_path, "bold", BOLD, title="Dry, hot, patient", body="Pat it dry first.")
    short = slide(tmp_path, "short", width=360, height=640, caption_safe=0.36, title="29.5 days", bullets=["New", "Full"])
    thumb = thumbnail(tmp_path, "thumb", "Where did the Milky Way go?")
    found = qc(tmp_path, [(2, clean), (4, bold), (5, short)], thumb)
    assert found.findings == [], [f.message for f in found.findings]
    assert found.scores["text.min_contrast"] >= 4.5 and found.scores["thumbnail.words"] == 6
    assert found.scores["thumbnail.cap_px_320"] >= 12 and found.scores["text.max_clipped_px"] == 0


def test_long_text_shrinks_to_fit_and_stays_inside(tmp_path):
    """A 60-character title and six 90-character bullets (the spec's limits) fit the landscape slide once shrunk:
    smaller than the template's size, not below its minimum, and nothing outside the frame."""
    bullets = [("Sky brightness is measured in magnitudes per square arcsecond with a meter " * 2)[:90]] * 6
    png, facts = slide(tmp_path, "long", title="How astronomers measure the darkness of a night sky, exactly",
                       bullets=bullets)
    text = facts["text"]
    assert 0 < text["fit_scales"][0] < 1
    bullet = next(e for e in text["elements"] if e["name"] == "bullets.5")
    assert bullet["fit_min"] <= bullet["px"] < 640 * 0.03 and bullet["overflow_px"] == 0 and bullet["clipped_px"] == 0
    found, _ = judge(text, QCText(), scene=0, at_s=None, fields=FIELDS)
    assert found == [], [f.message for f in found]
    # the last bullet's text is drawn where it was measured: light pixels inside its ink box
    x0, y0, x1, y1 = (int(v) for v in bullet["ink"])
    crop = Image.open(png).convert("L").crop((x0, y0, x1, y1))
    assert max(crop.getdata()) > 200


def test_bullet_too_long_even_at_minimum_size_is_clipped_at_its_field(tmp_path):
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3  # cannot wrap, cannot fit at any allowed size
    planted = slide(tmp_path, "planted", title="Lungs", bullets=["Fine dust", word, "Wear a mask"])
    thumb = thumbnail(tmp_path, "thumb", "Dust")
    found = qc(tmp_path, [(3, planted)], thumb)
    [f] = found.findings
    assert (f.check, f.severity, f.reason, f.scene, f.field) == (
        "text.clipped", "error", "visual.text_overflow", 3, ["visual", "bullets", 1])
    assert f.value > 100 and "even at its smallest size" in f.message
    bullet = next(e for e in planted[1]["text"]["elements"] if e["name"] == "bullets.1")
    assert bullet["px"] == bullet["fit_min"]  # shrink-to-fit went all the way down first


def test_text_in_the_caption_area_of_a_short(tmp_path):
    """Portrait slide with the bottom kept for captions: bullets that do not fit above it run into it."""
    bullets = [("Satellite maps of artificial sky brightness show the nearest dark place " * 2)[:90]] * 6
    _, facts = slide(tmp_path, "short", BOLD, width=360, height=640, caption_safe=0.36, title="Find a dark sky",
                     bullets=bullets)
    found, scores = judge(facts["text"], QCText(), scene=1, at_s=12.5, fields=FIELDS)
    caption = [f for f in found if f.check == "text.caption_area"]
    assert caption and all(f.field[:2] == ["visual", "bullets"] and f.at_s == 12.5 for f in caption)
    assert ["visual", "bullets", 5] in [f.field for f in caption] and scores["text.max_caption_px"] > 2


def test_low_contrast_footer_and_text(tmp_path):
    """A brand palette whose muted (footer) and text colours sit close to the background."""
    dull = {**PALETTE, "muted": "#1c2c3c", "text": "#4a5a6a"}
    png, facts = slide(tmp_path, "dull", title="Skyglow", bullets=["Light escapes upward"], palette=dull)
    thumb = thumbnail(tmp_path, "thumb", "Dust")
    found = qc(tmp_path, [(0, (png, facts))], thumb)
    by = {tuple(f.field) if f.field else None: f for f in found.findings}
    footer = by[None]
    assert (footer.check, footer.severity, footer.reason, footer.scene) == ("text.contrast", "error", "visual.low_quality", 0)
    assert footer.value < 1.5 and footer.limit == 4.5 and "brand footer" in footer.message and "#1c2c3c" in footer.message
    for field in (("visual", "title"), ("visual", "bullets", 0)):
        f = by[field]
        assert f.check == "text.contrast" and f.severity == "warning" and 2 <= f.value < f.limit
    assert found.scores["text.min_contrast"] < 1.5


def test_twenty_word_thumbnail(tmp_path):
    words = ("why the moon looks different on every single night of the month and what that tells us about "
             "its orbit")
    assert len(words.split()) == 20
    thumb = thumbnail(tmp_path, "thumb", words)
    found = qc(tmp_path, [], thumb, thumbnail_field=("title",))
    [f] = found.findings
    assert (f.check, f.severity, f.reason, f.scene, f.at_s, f.field, f.value, f.limit) == (
        "thumbnail.word_count", "warning", "metadata.thumbnail", None, None, ["title"], 20, 6)
    # its words shrank to fit; at a stricter readability threshold the same measurement is flagged
    cap = found.scores["thumbnail.cap_px_320"]
    strict, _ = judge(thumb[1]["text"], QCText(thumbnail_min_cap_px=cap + 1), scene=None, at_s=None,
                      fields={"text": ["title"]}, thumbnail=True)
    assert "thumbnail.readability" in [f.check for f in strict]


def test_contrast_math():
    assert float(contrast_ratio((255, 255, 255), (0, 0, 0))) == pytest.approx(21)
    assert float(contrast_ratio((0x77, 0x77, 0x77), (255, 255, 255))) == pytest.approx(4.48, abs=0.01)
    assert parse_color("rgba(10, 20, 30, 0.5)") == (10, 20, 30, 0.5) and parse_color("rgb(1 2 3 / 50%)") == (1, 2, 3, 0.5)
    assert parse_color("color(display-p3 1 0 0)") is None
