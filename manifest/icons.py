"""Draw the Teams app icons: ``python manifest/icons.py`` rewrites color.png and outline.png.

The symbol is a video camera with a check mark: a distance meeting whose room is taken care of.
Teams wants a full-colour 192×192 icon (symbol inside the central safe area) and a 32×32 outline
icon that is white on a transparent background. Both are drawn four times larger and scaled
down; the outline's alpha is scaled alone, so every visible pixel stays pure white.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent
ACCENT = (31, 95, 139)  # the manifest's accentColor, #1F5F8B
WHITE = (255, 255, 255)
SCALE = 4


def _camera(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], width: float) -> None:
    """A camera body (rounded rectangle with a check mark) and its lens cone, in ``box``."""
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    body = (left, top + 0.18 * h, left + 0.66 * w, bottom - 0.18 * h)
    draw.rounded_rectangle(body, radius=0.12 * w, outline=255, width=round(width))
    lens = [(left + 0.74 * w, top + 0.42 * h), (right, top + 0.26 * h),
            (right, bottom - 0.26 * h), (left + 0.74 * w, bottom - 0.42 * h)]
    draw.polygon(lens, outline=255, width=round(width))
    bx0, by0, bx1, by1 = body
    bw, bh = bx1 - bx0, by1 - by0
    check = [(bx0 + 0.26 * bw, by0 + 0.52 * bh), (bx0 + 0.44 * bw, by0 + 0.70 * bh),
             (bx0 + 0.76 * bw, by0 + 0.32 * bh)]
    draw.line(check, fill=255, width=round(width), joint="curve")


def _symbol(size: int, margin: float, width: float) -> Image.Image:
    """The symbol as an alpha mask of ``size``², drawn large and scaled down."""
    big = size * SCALE
    mask = Image.new("L", (big, big), 0)
    inset = margin * SCALE
    _camera(ImageDraw.Draw(mask), (inset, inset, big - inset, big - inset), width * SCALE)
    return mask.resize((size, size), Image.Resampling.LANCZOS)


def color_icon() -> Image.Image:
    """192×192, opaque: the white symbol on the accent colour, inside the 96-pixel safe area."""
    icon = Image.new("RGB", (192, 192), ACCENT)
    icon.paste(WHITE, (0, 0), _symbol(192, margin=48, width=7))
    return icon


def outline_icon() -> Image.Image:
    """32×32: white where the symbol is, transparent everywhere else."""
    icon = Image.new("RGBA", (32, 32), (*WHITE, 0))
    icon.putalpha(_symbol(32, margin=2, width=2))
    return icon


if __name__ == "__main__":
    color_icon().save(HERE / "color.png", optimize=True)
    outline_icon().save(HERE / "outline.png", optimize=True)
