"""Benign image corpus for benchmarks and tests.

Only images bundled inside installed scientific packages (read straight from the wheel's
files, so nothing is ever downloaded) and scenes generated here with Pillow.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Files shipped in the scikit-image wheel. Stereo twins (motorcycle_right), tiny or
# near-blank images are left out because they are duplicates or carry no picture.
SKIMAGE_FILES = (
    "astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png", "clock_motion.png",
    "coffee.png", "coins.png", "color.png", "grass.png", "gravel.png", "horse.png",
    "hubble_deep_field.jpg", "ihc.png", "logo.png", "moon.png", "motorcycle_left.png",
    "page.png", "phantom.png", "retina.jpg", "rocket.jpg", "text.png",
)
SKLEARN_FILES = ("china.jpg", "flower.jpg")


@dataclass(frozen=True)
class CorpusImage:
    name: str
    group: str  # images sharing a group come from the same source picture
    rgb: np.ndarray


def _package_dir(module: str, *parts: str) -> Path | None:
    try:
        mod = __import__(module, fromlist=["__file__"])
    except ImportError:
        return None
    return Path(mod.__file__).parent.joinpath(*parts) if mod.__file__ else None


def bundled_images() -> dict[str, np.ndarray]:
    """Bundled benign pictures as RGB uint8 arrays, keyed by file stem."""
    found: dict[str, np.ndarray] = {}
    sources: list[tuple[Path | None, tuple[str, ...]]] = [
        (_package_dir("skimage.data"), SKIMAGE_FILES),
        (_package_dir("sklearn.datasets", "images"), SKLEARN_FILES),
    ]
    for folder, names in sources:
        if folder is None:
            continue
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                with Image.open(path) as im:
                    found[path.stem] = np.asarray(_flatten_alpha(im))
    return found


def _flatten_alpha(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "P"):
        im = im.convert("RGBA")
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, im).convert("RGB")
    return im.convert("RGB")


def generated_scene(seed: int, size: tuple[int, int] = (1024, 768)) -> np.ndarray:
    """A random benign scene: gradient, shapes and words, deterministic per seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xs / w + np.sin(angle) * ys / h + 1) / 2
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    base = (c0[None, None, :] * (1 - ramp[..., None]) + c1[None, None, :] * ramp[..., None])
    im = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(6, 25))):
        x0, y0 = int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h))
        x1, y1 = x0 + int(rng.integers(w // 20, w // 2)), y0 + int(rng.integers(h // 20, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = rng.integers(0, 4)
        if shape == 0:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif shape == 1:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif shape == 2:
            pts = [tuple(int(v) for v in rng.integers(0, max(w, h), 2)) for _ in range(3)]
            draw.polygon(pts, fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(3, 30)))
    for _ in range(int(rng.integers(1, 5))):
        font = ImageFont.load_default(size=int(rng.integers(20, 90)))
        word = "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(3, 10))))
        xy = (int(rng.integers(0, w - 50)), int(rng.integers(0, h - 50)))
        draw.text(xy, word, fill=tuple(int(c) for c in rng.integers(0, 256, 3)), font=font)
    return np.asarray(im)


def _fit(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def corpus(n: int = 120, size: tuple[int, int] = (1024, 768), seed: int = 0) -> list[CorpusImage]:
    """``n`` varied originals: whole bundled pictures, sub-crops of them at different
    positions and scales, and generated scenes; all resized to ``size`` (w, h)."""
    rng = np.random.default_rng(seed)
    bundled = bundled_images()
    out = [CorpusImage(name, name, _fit(rgb, size)) for name, rgb in bundled.items()]
    names = sorted(bundled)
    n_crops = max(0, (n - len(out)) * 2 // 3)
    for k in range(n_crops):
        name = names[k % len(names)]
        rgb = bundled[name]
        h, w = rgb.shape[:2]
        scale = rng.uniform(0.35, 0.6)
        ch, cw = max(16, int(h * scale)), max(16, int(w * scale))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        crop = rgb[y:y + ch, x:x + cw]
        out.append(CorpusImage(f"{name}@{x},{y},{cw}x{ch}", name, _fit(crop, size)))
    k = 0
    while len(out) < n:
        out.append(CorpusImage(f"scene{k}", f"scene{k}", generated_scene(seed * 1000 + k, size)))
        k += 1
    return out[:n]


# ---------------------------------------------------------------------------------------
# Training pictures: disjoint from ``corpus`` (no bundled file, crop or scene seed in
# common), for choosing variants by measurement and then reporting on ``corpus``.

TRAINING_SEED_BASE = 1_000_000  # scene seeds here never meet corpus()'s seed * 1000 + k


def _colormapped(values: np.ndarray, cmap: str) -> np.ndarray:
    import matplotlib

    span = float(values.max() - values.min()) or 1.0
    unit = (values - values.min()) / span
    return (matplotlib.colormaps[cmap](unit)[..., :3] * 255).astype(np.uint8)


def training_sources() -> dict[str, np.ndarray]:
    """Benign pictures that ``corpus`` never uses: matplotlib's sample photo, terrain
    elevation maps (colour-mapped and hill-shaded), an MRI slice, a small scikit-image
    retina detail. Missing packages simply give fewer sources."""
    found: dict[str, np.ndarray] = {}
    sample = _package_dir("matplotlib", "mpl-data", "sample_data")
    if sample is not None and sample.is_dir():
        photo = sample / "grace_hopper.jpg"
        if photo.is_file():
            with Image.open(photo) as im:
                found["grace_hopper"] = np.asarray(im.convert("RGB"))
        dem = sample / "jacksboro_fault_dem.npz"
        if dem.is_file():
            from matplotlib.colors import LightSource

            elevation = np.load(dem)["elevation"].astype(np.float64)
            found["dem_terrain"] = _colormapped(elevation, "terrain")
            found["dem_gist_earth"] = _colormapped(elevation, "gist_earth")
            shade = LightSource(azdeg=315, altdeg=45).hillshade(elevation, vert_exag=0.05)
            found["dem_hillshade"] = np.repeat((shade * 255).astype(np.uint8)[..., None], 3, 2)
        topo = sample / "topobathy.npz"
        if topo.is_file():
            found["topobathy"] = _colormapped(np.load(topo)["topo"].astype(np.float64),
                                              "ocean")
        mri = sample / "s1045.ima.gz"
        if mri.is_file():
            import gzip

            raw = np.frombuffer(gzip.decompress(mri.read_bytes()), ">u2")
            if raw.size == 256 * 256:
                found["mri"] = _colormapped(raw.reshape(256, 256).astype(np.float64), "gray")
    skdata = _package_dir("skimage.data")
    if skdata is not None and (skdata / "microaneurysms.png").is_file():
        with Image.open(skdata / "microaneurysms.png") as im:
            found["microaneurysms"] = np.asarray(im.convert("RGB"))
    return found


def fractal_scene(seed: int, size: tuple[int, int] = (1024, 768)) -> np.ndarray:
    """A landscape-like picture: 1/f noise through a colour map (benign, generated)."""
    rng = np.random.default_rng(seed)
    w, h = size
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    spectrum = rng.normal(size=(h, w // 2 + 1)) + 1j * rng.normal(size=(h, w // 2 + 1))
    spectrum /= np.maximum(np.hypot(fx, fy), 1.0 / max(w, h)) ** rng.uniform(1.3, 2.0)
    field = np.fft.irfft2(spectrum, s=(h, w))
    cmap = ("terrain", "viridis", "gist_earth", "copper", "cividis")[int(rng.integers(0, 5))]
    return _colormapped(field, cmap)


def training_corpus(n: int = 60, size: tuple[int, int] = (1024, 768),
                    seed: int = 0) -> list[CorpusImage]:
    """``n`` originals disjoint from ``corpus(...)``: crops of ``training_sources`` at
    random positions and scales, 1/f landscapes and generated scenes from another seed
    range, in equal shares."""
    rng = np.random.default_rng(TRAINING_SEED_BASE + seed)
    sources = training_sources()
    names = sorted(sources)
    out: list[CorpusImage] = []
    k = 0
    while len(out) < n:
        kind = k % 3
        if kind == 0 and names:
            name = names[(k // 3) % len(names)]
            rgb = sources[name]
            h, w = rgb.shape[:2]
            scale = rng.uniform(0.5, 1.0)
            ch, cw = max(16, int(h * scale)), max(16, int(w * scale))
            y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            out.append(CorpusImage(f"train:{name}@{x},{y}", f"train:{name}",
                                   _fit(rgb[y:y + ch, x:x + cw], size)))
        elif kind == 1:
            out.append(CorpusImage(f"train:fractal{k}", f"train:fractal{k}",
                                   fractal_scene(TRAINING_SEED_BASE + seed * 1000 + k, size)))
        else:
            out.append(CorpusImage(f"train:scene{k}", f"train:scene{k}",
                                   generated_scene(TRAINING_SEED_BASE + seed * 1000 + k, size)))
        k += 1
    return out


def encode(rgb: np.ndarray, fmt: str = "JPEG", **params: object) -> bytes:
    """Encode in memory (benchmarks never write images to disk)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **params)
    return buf.getvalue()


def iter_jpegs(images: list[CorpusImage], quality: int = 90) -> Iterator[tuple[str, bytes]]:
    for item in images:
        yield item.name, encode(item.rgb, "JPEG", quality=quality)
