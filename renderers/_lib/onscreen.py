"""On-screen text, fitted and measured in the page Chromium renders (slides, thumbnails; issue 11).

Templates say what their text is with three attributes (recipes/templates/slide/*.html.j2 show them):
  data-text="title" | "bullets.2" | "body" | "brand" | "text"   a text element and the spec field it shows
  data-box                                                      the area the text inside it is laid out for
  data-fit="<px>"                                               text that may shrink, down to <px>, to fit its box
  data-logo                                                     a logo (text must not run under it)

`FIT_JS` shrinks the `data-fit` text of each box by one common scale (so a title keeps its rank over its
bullets), each element stopping at its own minimum, until every line of text and every picture in the box
lies inside the box's content area. What still does not fit stays at its minimum, where `measure` sees it.

`measure` reads the laid-out page: where each text run is (Range client rects: the glyph boxes of each
line), its font size, weight, cap height and colour, the box it was laid out for, the region its ancestors
clip it to, and the logos. The background behind the text is read from a second screenshot with every glyph
and text shadow made transparent, so a picture, a gradient or an overlapping panel counts exactly as drawn
(a shadow is left out: the glyph covers its core, and a dark shadow under dark text would read as the
background); contrast follows WCAG 2.x from those pixels and the text's computed colour and opacity.
A template without `data-text` attributes is still measured: every element with text of its own counts,
named "text:<tag>.<class>" (no spec field).
"""
from __future__ import annotations

import io
import re
from typing import Any

CONTRAST_PERCENTILE = 10  # a run's contrast: the 10th percentile over the pixels behind it (a picture varies)

# A text node's client rects span the font's whole ascent + descent, taller than the line when line-height is
# tight (a 1.0 title): each rect is trimmed to the line's height around its middle, where the glyphs are.
LINES_JS = r"""
  const lineRects = n => {
    const s = getComputedStyle(n.parentElement), px = parseFloat(s.fontSize);
    const lh = s.lineHeight === 'normal' ? Infinity : parseFloat(s.lineHeight) || Infinity;
    const rg = document.createRange(); rg.selectNodeContents(n);
    return [...rg.getClientRects()].filter(r => r.width > 0 && r.height > 0).map(r => {
      const cut = Math.max(0, (r.height - Math.max(lh, px)) / 2);
      return {left: r.left, right: r.right, top: r.top + cut, bottom: r.bottom - cut};
    });
  };
"""

FIT_JS = r"""
() => {
""" + LINES_JS + r"""
  const boxOf = el => el.closest('[data-box]') || document.body;
  const content = el => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el), f = p => parseFloat(s[p]) || 0;
    return {l: r.left + f('borderLeftWidth') + f('paddingLeft'), t: r.top + f('borderTopWidth') + f('paddingTop'),
            r: r.right - f('borderRightWidth') - f('paddingRight'), b: r.bottom - f('borderBottomWidth') - f('paddingBottom')};
  };
  const inside = (r, c) => r.left >= c.l - 0.5 && r.top >= c.t - 0.5 && r.right <= c.r + 0.5 && r.bottom <= c.b + 0.5;
  const textInside = box => {
    const c = content(box);
    const w = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n; n = w.nextNode()) {
      if (!n.data.trim() || boxOf(n.parentElement) !== box) continue;
      for (const r of lineRects(n)) if (!inside(r, c)) return false;
    }
    return true;
  };
  const imagesInside = box => {
    const c = content(box);
    for (const img of box.querySelectorAll('img')) if (boxOf(img) === box && !inside(img.getBoundingClientRect(), c)) return false;
    return true;
  };
  const groups = new Map();
  for (const el of document.querySelectorAll('[data-fit]')) {
    const box = boxOf(el);
    if (!groups.has(box)) groups.set(box, []);
    const base = parseFloat(getComputedStyle(el).fontSize);
    groups.get(box).push({el, base, min: Math.min(base, parseFloat(el.dataset.fit) || base)});
  }
  const scales = [];
  for (const [box, items] of groups) {
    const apply = s => { for (const t of items) t.el.style.fontSize = Math.max(t.min, Math.floor(t.base * s)) + 'px'; };
    let scale = 1;
    if (!(textInside(box) && imagesInside(box))) {
      apply(0);
      // pictures count only where smaller text makes room for them (one too big for its box is not the text's fault)
      const images = imagesInside(box);
      const fits = () => textInside(box) && (!images || imagesInside(box));
      if (fits()) {  // search the largest common scale that fits; 0 (everything at its minimum) fits
        let lo = 0, hi = 1;
        for (let i = 0; i < 10; i++) { const mid = (lo + hi) / 2; apply(mid); if (fits()) lo = mid; else hi = mid; }
        scale = lo;
      } else {
        scale = 0;
      }
      apply(scale);
    }
    scales.push(Math.round(scale * 1000) / 1000);
  }
  return scales;
}
"""

MEASURE_JS = r"""
() => {
""" + LINES_JS + r"""
  const W = innerWidth, H = innerHeight;
  const boxOf = el => el.closest('[data-box]') || document.body;
  const rect = r => [r.left, r.top, r.right, r.bottom];
  const content = el => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el), f = p => parseFloat(s[p]) || 0;
    return [r.left + f('borderLeftWidth') + f('paddingLeft'), r.top + f('borderTopWidth') + f('paddingTop'),
            r.right - f('borderRightWidth') - f('paddingRight'), r.bottom - f('borderBottomWidth') - f('paddingBottom')];
  };
  const clipOf = el => {  // the visible region: the frame, cut by every ancestor that clips its overflow
    const c = [0, 0, W, H];
    for (let a = el; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const p = [a.getBoundingClientRect().left + (parseFloat(s.borderLeftWidth) || 0),
                 a.getBoundingClientRect().top + (parseFloat(s.borderTopWidth) || 0),
                 a.getBoundingClientRect().right - (parseFloat(s.borderRightWidth) || 0),
                 a.getBoundingClientRect().bottom - (parseFloat(s.borderBottomWidth) || 0)];
      if (s.overflowX !== 'visible') { c[0] = Math.max(c[0], p[0]); c[2] = Math.min(c[2], p[2]); }
      if (s.overflowY !== 'visible') { c[1] = Math.max(c[1], p[1]); c[3] = Math.min(c[3], p[3]); }
    }
    return c;
  };
  const opacityOf = el => { let o = 1; for (let a = el; a; a = a.parentElement) o *= parseFloat(getComputedStyle(a).opacity); return o; };
  const ctx = document.createElement('canvas').getContext('2d');
  const capOf = s => { ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
                       return ctx.measureText('H').actualBoundingBoxAscent; };
  let els = [...document.querySelectorAll('[data-text]')];
  const named = els.length > 0;
  if (!named) els = [...document.body.querySelectorAll('*')].filter(
      e => [...e.childNodes].some(n => n.nodeType === 3 && n.data.trim()));
  const elements = [];
  for (const el of els) {
    const runs = [];
    const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n; n = w.nextNode()) {
      if (!n.data.trim() || (!named && n.parentElement !== el)) continue;
      const p = n.parentElement, s = getComputedStyle(p);
      if (s.visibility !== 'visible') continue;
      const rects = lineRects(n).map(rect);
      if (!rects.length) continue;
      runs.push({rects, px: parseFloat(s.fontSize), weight: parseInt(s.fontWeight) || 400, color: s.color,
                 opacity: opacityOf(p), cap: capOf(s)});
    }
    const name = el.dataset.text || ('text:' + el.tagName.toLowerCase() + (el.classList.length ? '.' + [...el.classList].join('.') : ''));
    elements.push({name, text: el.textContent.replace(/\s+/g, ' ').trim(), runs,
                   box: named ? content(boxOf(el)) : clipOf(el), clip: clipOf(el),  // unannotated: no box but the visible one
                   fit_min: el.dataset.fit ? parseFloat(el.dataset.fit) : null});
  }
  const logos = [...document.querySelectorAll('[data-logo]')].map(e => rect(e.getBoundingClientRect()))
                 .filter(r => r[2] > r[0] && r[3] > r[1]);
  return {frame: [W, H], named, elements, logos};
}
"""

HIDE_TEXT_CSS = ("*, *::before, *::after { color: transparent !important; -webkit-text-fill-color: transparent !important;"
                 " text-decoration-color: transparent !important; text-shadow: none !important; }")


def fit(page) -> list[float]:
    """Shrink `data-fit` text to fit its box (see the module docstring); the scale chosen for each box."""
    return page.evaluate(FIT_JS)


def measure(page, caption_safe: float = 0.0) -> dict[str, Any]:
    """Measure the laid-out page (call after `fit` and after the output screenshot: this hides the text)."""
    raw = page.evaluate(MEASURE_JS)
    page.add_style_tag(content=HIDE_TEXT_CSS)
    png, scale = _background_png(page, *raw["frame"])
    return summarize(raw, png, caption_safe, scale)


BACKGROUND_SCALE = 0.5  # the text-less background is read at half size: a quarter of the pixels to encode and decode


def _background_png(page, width: int, height: int) -> tuple[bytes, float]:
    """The viewport without its text, as PNG at BACKGROUND_SCALE, encoded for speed (only read here, never
    stored); Playwright's full-size screenshot where the protocol lacks those options. (png, scale)."""
    import base64

    try:
        cdp = page.context.new_cdp_session(page)
        try:
            shot = cdp.send("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True, "clip": {
                "x": 0, "y": 0, "width": width, "height": height, "scale": BACKGROUND_SCALE}})
            return base64.b64decode(shot["data"]), BACKGROUND_SCALE
        finally:
            cdp.detach()
    except Exception:
        return page.screenshot(type="png", full_page=False), 1.0


# ------------------------------------------------------------------------------------------ analysis --

def luminance(rgb) -> Any:
    """WCAG 2.x relative luminance of sRGB values 0..255 (a numpy array of ...x3, or one triple)."""
    import numpy as np

    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722


def contrast_ratio(a, b) -> Any:
    """WCAG contrast ratio of two sRGB colours (1..21), elementwise."""
    import numpy as np

    la, lb = luminance(a), luminance(b)
    return (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)


_RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)")


def parse_color(css: str) -> tuple[float, float, float, float] | None:
    """A computed CSS colour ("rgb(1, 2, 3)", "rgba(1, 2, 3, 0.5)") as (r, g, b, alpha); None if another form."""
    m = _RGB.fullmatch(css.strip())
    if not m:
        return None
    a = m.group(4)
    alpha = 1.0 if a is None else float(a[:-1]) / 100 if a.endswith("%") else float(a)
    return float(m.group(1)), float(m.group(2)), float(m.group(3)), alpha


def _hex(rgb) -> str:
    return "#" + "".join(f"{int(round(float(v))):02x}" for v in rgb[:3])


def _beyond(r: list[float], area: list[float]) -> float:
    """How far rect r sticks out of area (px, 0 when inside)."""
    return max(0.0, area[0] - r[0], area[1] - r[1], r[2] - area[2], r[3] - area[3])


def _overlap(r: list[float], o: list[float]) -> float:
    return max(0.0, min(r[2], o[2]) - max(r[0], o[0])) * max(0.0, min(r[3], o[3]) - max(r[1], o[1]))


def _behind(pixels, rects: list[list[float]], scale: float = 1.0):
    """The background pixels under a run's rects (on the frame; `pixels` is the frame at `scale`), one every
    2 px of the frame; None if off the frame."""
    import numpy as np

    h, w = pixels.shape[:2]
    step = max(1, round(2 * scale))
    parts = []
    for l, t, r, b in rects:
        l, t, r, b = l * scale, t * scale, r * scale, b * scale
        x0, y0, x1, y1 = max(0, int(l)), max(0, int(t)), min(w, int(r + 0.999)), min(h, int(b + 0.999))
        if x1 > x0 and y1 > y0:
            parts.append(pixels[y0:y1:step, x0:x1:step].reshape(-1, 3))
    return np.concatenate(parts).astype(np.float64) if parts else None


def summarize(raw: dict, background_png: bytes, caption_safe: float = 0.0, scale: float = 1.0) -> dict[str, Any]:
    """Per text element: where it is, how far it runs out of its box, its clip region and the caption area,
    how much of it lies under a logo, its smallest size and cap height, and its worst contrast. `background_png`
    is the frame without text at `scale` (1: full size)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(background_png)).convert("RGB"))  # uint8; samples become floats
    width, height = raw["frame"]
    zone = height * (1 - caption_safe) if caption_safe > 0 else None
    elements = []
    for el in raw["elements"]:
        rects = [r for run in el["runs"] for r in run["rects"]]
        if not rects:
            continue
        runs = []
        for run in el["runs"]:
            fg = parse_color(run["color"])
            item: dict[str, Any] = {"px": round(run["px"], 1), "weight": run["weight"], "cap_px": round(run["cap"], 1)}
            behind = _behind(pixels, run["rects"], scale)
            if fg is not None and behind is not None:
                alpha = fg[3] * run["opacity"]
                seen = alpha * np.asarray(fg[:3]) + (1 - alpha) * behind  # the glyph as composited over each pixel
                ratios = contrast_ratio(seen, behind)
                flat = float(np.ptp(behind, axis=0).max()) <= 8  # one colour behind the text (antialiasing aside)
                item.update({"contrast": round(float(np.percentile(ratios, CONTRAST_PERCENTILE)), 2),
                             "fg": _hex(fg), "bg": _hex(np.median(behind, axis=0)), "bg_kind": "flat" if flat else "image"})
            runs.append(item)
        ink = [min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects), max(r[3] for r in rects)]
        worst = min((r for r in runs if "contrast" in r), key=lambda r: r["contrast"], default=None)
        summary: dict[str, Any] = {
            "name": el["name"], "text": el["text"][:160], "words": len(el["text"].split()),
            "ink": [round(v, 1) for v in ink],
            "overflow_px": round(max(_beyond(r, el["box"]) for r in rects), 1),
            "clipped_px": round(max(_beyond(r, el["clip"]) for r in rects), 1),
            "caption_px": round(max(max(0.0, min(r[3], height) - max(r[1], zone)) for r in rects), 1) if zone else 0.0,
            "logo_px2": round(sum(_overlap(r, o) for r in rects for o in raw["logos"]), 1),
            "px": min(r["px"] for r in runs), "cap_px": min(r["cap_px"] for r in runs),
            "fit_min": el["fit_min"], "runs": runs}
        if worst is not None:
            summary["contrast"] = worst["contrast"]
        elements.append(summary)
    return {"frame": [width, height], "caption_safe": caption_safe, "named": raw["named"], "elements": elements,
            "logos": [[round(v, 1) for v in o] for o in raw["logos"]]}
