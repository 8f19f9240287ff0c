"""The tray icons, drawn with Pillow.

Each state has its own silhouette, so the states are told apart without
colour: idle is a disc with a tick, importing a down arrow, paused two bars,
attention a triangle with "!", daemon-not-running a ring with a slash. Every
shape has a dark outline so it reads on light and dark panels alike.

Icons are drawn at four times the requested size and scaled down, which gives
clean anti-aliased edges at every size from 16 to 64 px and beyond.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw

from modeld.tray.state import IconState

SUPERSAMPLE = 4
RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]
OUTLINE: RGBA = (24, 24, 24, 255)
WHITE: RGBA = (255, 255, 255, 255)
COLOURS: dict[IconState, RGBA] = {
    IconState.IDLE: (46, 160, 67, 255),  # green
    IconState.IMPORTING: (33, 118, 230, 255),  # blue
    IconState.PAUSED: (230, 170, 20, 255),  # amber
    IconState.ATTENTION: (225, 75, 35, 255),  # red-orange
    IconState.DISCONNECTED: (150, 150, 150, 255),  # grey
}
# Panels that cannot show transparency (X11 XEmbed trays) get this behind the icon.
PANEL_BACKGROUND: RGB = (48, 48, 48)


@lru_cache(maxsize=64)
def render(state: IconState, size: int) -> Image.Image:
    """The icon for `state` as a square RGBA image of `size` pixels (cached: do not modify)."""
    if size < 8:
        raise ValueError(f"icon size {size} is too small (at least 8 px)")
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    _DRAWERS[state](draw, big, COLOURS[state])
    return image.resize((size, size), Image.Resampling.LANCZOS)


def render_flat(
    state: IconState, width: int, height: int, background: RGB = PANEL_BACKGROUND
) -> Image.Image:
    """An opaque RGB image of `width`x`height` with the icon centred, square, on `background`.

    For trays that paint the image as is (pystray's X11 backend) and would
    otherwise stretch it to their slot and show transparent pixels as black.
    """
    canvas = Image.new("RGBA", (width, height), (*background, 255))
    side = min(width, height)
    if side >= 8:
        icon = render(state, side)
        canvas.alpha_composite(icon, ((width - side) // 2, (height - side) // 2))
    return canvas.convert("RGB")


def _stroke(big: int) -> int:
    # an outline of about 1 px at 16 px, 3 px at 64 px
    return max(SUPERSAMPLE, round(big / 21))


def _draw_idle(draw: ImageDraw.ImageDraw, big: int, colour: RGBA) -> None:
    line = _stroke(big)
    pad = big * 0.06
    draw.ellipse((pad, pad, big - pad, big - pad), fill=colour, outline=OUTLINE, width=line)
    tick = [(0.28, 0.52), (0.44, 0.68), (0.73, 0.36)]
    draw.line(
        [(x * big, y * big) for x, y in tick], fill=WHITE, width=round(big * 0.11), joint="curve"
    )


def _draw_importing(draw: ImageDraw.ImageDraw, big: int, colour: RGBA) -> None:
    line = _stroke(big)
    arrow = [
        (0.36, 0.05), (0.64, 0.05), (0.64, 0.45), (0.90, 0.45),
        (0.50, 0.95), (0.10, 0.45), (0.36, 0.45),
    ]  # fmt: skip
    draw.polygon([(x * big, y * big) for x, y in arrow], fill=colour, outline=OUTLINE, width=line)


def _draw_paused(draw: ImageDraw.ImageDraw, big: int, colour: RGBA) -> None:
    line = _stroke(big)
    radius = big * 0.06
    for left in (0.14, 0.58):
        box = (left * big, 0.08 * big, (left + 0.28) * big, 0.92 * big)
        draw.rounded_rectangle(box, radius=radius, fill=colour, outline=OUTLINE, width=line)


def _draw_attention(draw: ImageDraw.ImageDraw, big: int, colour: RGBA) -> None:
    line = _stroke(big)
    triangle = [(0.50 * big, 0.04 * big), (0.97 * big, 0.92 * big), (0.03 * big, 0.92 * big)]
    draw.polygon(triangle, fill=colour, outline=OUTLINE, width=line)
    bar = big * 0.055
    draw.rounded_rectangle(
        (0.5 * big - bar, 0.30 * big, 0.5 * big + bar, 0.64 * big), radius=bar, fill=WHITE
    )
    dot = big * 0.065
    draw.ellipse((0.5 * big - dot, 0.73 * big - dot, 0.5 * big + dot, 0.73 * big + dot), fill=WHITE)


def _draw_disconnected(draw: ImageDraw.ImageDraw, big: int, colour: RGBA) -> None:
    line = _stroke(big)
    pad = big * 0.08
    ring = big * 0.13
    draw.ellipse((pad, pad, big - pad, big - pad), fill=OUTLINE)
    draw.ellipse(
        (pad + line, pad + line, big - pad - line, big - pad - line), fill=colour
    )  # the ring's face
    inner = pad + ring
    draw.ellipse((inner, inner, big - inner, big - inner), fill=OUTLINE)
    draw.ellipse(
        (inner + line, inner + line, big - inner - line, big - inner - line), fill=(0, 0, 0, 0)
    )
    # the slash, from top-left to bottom-right, outlined like the ring
    start, end = (big * 0.24, big * 0.24), (big * 0.76, big * 0.76)
    draw.line([start, end], fill=OUTLINE, width=round(ring + 2 * line))
    draw.line([start, end], fill=colour, width=round(ring))


_DRAWERS = {
    IconState.IDLE: _draw_idle,
    IconState.IMPORTING: _draw_importing,
    IconState.PAUSED: _draw_paused,
    IconState.ATTENTION: _draw_attention,
    IconState.DISCONNECTED: _draw_disconnected,
}
