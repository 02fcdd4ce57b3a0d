"""Procedural night-sky stills for brands/media/stills/ (the cosmos fallback library): no downloads, reproducible.

    .venv/bin/python scripts/sample_stills.py
"""
import numpy as np
from PIL import Image, ImageFilter

W, H = 1920, 1080
rng = np.random.default_rng(2026)
yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)


def stars(img, n, bright=1.0, band=None):
    x = rng.integers(0, W, n)
    y = rng.integers(0, H, n)
    if band is not None:
        keep = rng.random(n) < band(x, y)
        x, y = x[keep], y[keep]
    mag = rng.power(3.0, len(x)) * bright
    layer = np.zeros((H, W), np.float32)
    np.add.at(layer, (y, x), mag * 255)
    glow = np.array(Image.fromarray(np.clip(layer, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8)), np.float32)
    img += (layer * 0.6 + glow * 1.6)[..., None] * np.array([0.95, 0.97, 1.0])
    return img


def ridge(img, base, amp, color):
    xs = np.arange(W)
    h = base + amp * (np.sin(xs / 230.0) * 0.6 + np.sin(xs / 71.0 + 1.3) * 0.25 + np.sin(xs / 19.0) * 0.05)
    mask = yy > h[None, :]
    img[mask] = color
    return img


def save(img, name):
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(f"brands/media/stills/{name}", quality=84, optimize=True,
                                                               progressive=True)


# 1. the Milky Way band over a dark ridge
sky = np.zeros((H, W, 3), np.float32)
t = yy / H
sky += np.stack([8 + 10 * t, 12 + 14 * t, 30 + 20 * t], -1)
d = (yy - (0.9 * H - 0.55 * xx)) / 260.0  # distance from a diagonal band
band = np.exp(-d ** 2)
noise = np.array(Image.fromarray((rng.random((H // 8, W // 8)) * 255).astype(np.uint8)).resize((W, H), Image.BICUBIC), np.float32) / 255
sky += (band * (0.6 + 0.6 * noise))[..., None] * np.array([70, 62, 80])
dust = np.exp(-((yy - (0.92 * H - 0.55 * xx)) / 45.0) ** 2) * (0.5 + 0.5 * noise)
sky *= (1 - 0.55 * dust)[..., None]
sky = stars(sky, 9000, 1.0)
sky = stars(sky, 30000, 0.5, band=lambda x, y: np.exp(-(((y - (0.9 * H - 0.55 * x)) / 260.0) ** 2)))
save(ridge(sky, 0.86 * H, 40, np.array([4, 5, 9])), "milky-way-ridge.jpg")

# 2. skyglow over a town: an orange dome, few stars
sky = np.zeros((H, W, 3), np.float32)
t = yy / H
dome = np.exp(-(((xx - 0.55 * W) / (0.6 * W)) ** 2) - ((H - yy) / (0.38 * H)) ** 2)
sky += np.stack([10 + 6 * t, 12 + 8 * t, 26 + 6 * t], -1) + dome[..., None] * np.array([150, 90, 40])
sky = stars(sky, 500, 0.8)
sky = ridge(sky, 0.9 * H, 12, np.array([12, 9, 8]))
lights = np.zeros((H, W), np.float32)
lx, ly = rng.integers(0, W, 900), rng.integers(int(0.91 * H), H, 900)
np.add.at(lights, (ly, lx), 255)
lights = np.array(Image.fromarray(np.clip(lights, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2)), np.float32)
sky += lights[..., None] * np.array([2.4, 1.7, 0.9])
save(sky, "city-skyglow.jpg")

# 3. a dark-sky site: deep blue twilight gradient, dense stars, a lone tree-less hill
sky = np.zeros((H, W, 3), np.float32)
t = yy / H
sky += np.stack([5 + 14 * t ** 2, 8 + 24 * t ** 2, 22 + 40 * t ** 2], -1)
sky = stars(sky, 16000, 1.0)
save(ridge(sky, 0.8 * H, 70, np.array([3, 4, 7])), "dark-site.jpg")
