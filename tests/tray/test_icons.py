"""The icons: every state at every tray size, told apart by shape alone."""

from __future__ import annotations

import itertools

import pytest
from PIL import Image, ImageChops

from modeld.tray.icons import PANEL_BACKGROUND, render, render_flat
from modeld.tray.state import IconState

SIZES = (16, 22, 24, 32, 48, 64)


def silhouette(image: Image.Image) -> Image.Image:
    """Where the icon is opaque, as black and white: no colour left to tell states apart."""
    return image.getchannel("A").point(lambda a: 255 if a >= 128 else 0)


def difference(a: Image.Image, b: Image.Image) -> float:
    """Share of pixels that differ between two silhouettes."""
    histogram = ImageChops.difference(a, b).histogram()
    return (a.width * a.height - histogram[0]) / (a.width * a.height)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("state", list(IconState))
def test_each_icon_is_a_square_rgba_image_with_a_clear_margin(state, size):
    image = render(state, size)
    assert image.mode == "RGBA" and image.size == (size, size)
    coverage = sum(image.getchannel("A").histogram()[128:]) / size**2
    assert 0.15 < coverage < 0.85, coverage  # visible, and not a filled square
    assert image.getpixel((0, size - 1))[3] == 0 or state is IconState.ATTENTION
    assert image.getpixel((0, 0))[3] == 0  # transparent corner: the panel shows through


@pytest.mark.parametrize("size", SIZES)
def test_states_differ_by_shape_alone_at_every_size(size):
    shapes = {state: silhouette(render(state, size)) for state in IconState}
    for a, b in itertools.combinations(IconState, 2):
        share = difference(shapes[a], shapes[b])
        assert share > 0.12, f"{a} and {b} look alike at {size}px ({share:.0%} of pixels differ)"


def test_icons_are_drawn_for_their_size_not_blurred_from_one_master():
    # a 16 px icon scaled up to 64 px is blurrier than the 64 px drawing: fewer hard edges
    crisp = render(IconState.PAUSED, 64).getchannel("A")
    scaled = (
        render(IconState.PAUSED, 16).resize((64, 64), Image.Resampling.BILINEAR).getchannel("A")
    )

    def hard(alpha: Image.Image) -> int:
        histogram = alpha.histogram()
        return histogram[0] + histogram[255]

    assert hard(crisp) > hard(scaled)


def test_flat_icon_for_x11_trays_is_opaque_centred_and_not_stretched():
    image = render_flat(IconState.IDLE, 24, 30)
    assert image.mode == "RGB" and image.size == (24, 30)
    # three rows of panel colour above and below the centred 24 px square
    assert all(image.getpixel((x, y)) == PANEL_BACKGROUND for x in range(24) for y in (0, 1, 2, 27))
    centre = image.getpixel((12, 15))
    assert centre != PANEL_BACKGROUND
    square = Image.new("RGBA", (24, 24), (*PANEL_BACKGROUND, 255))
    square.alpha_composite(render(IconState.IDLE, 24))
    assert image.crop((0, 3, 24, 27)).tobytes() == square.convert("RGB").tobytes()


def test_too_small_a_size_is_refused():
    with pytest.raises(ValueError, match="too small"):
        render(IconState.IDLE, 4)
