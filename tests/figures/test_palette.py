"""Every chart colour reads on both themes, and the series stay apart for colour-blind students."""

from __future__ import annotations

import itertools
import re

import pytest

from steplr_viz.figures import style
from tests.apptest_pages import REPO


def _linear(hex_colour: str) -> list[float]:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    return [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance."""
    r, g, b = _linear(hex_colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio, 1 .. 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Viénot, Brettel & Mollon (1999): how linear RGB looks to a protanope and a deuteranope.
SIMULATIONS = {
    "protanopia": [[0.11238, 0.88762, 0.0], [0.11238, 0.88762, 0.0], [0.00401, -0.00401, 1.0]],
    "deuteranopia": [[0.29275, 0.70725, 0.0], [0.29275, 0.70725, 0.0], [-0.02234, 0.02234, 1.0]],
}


def _lab(rgb_linear: list[float]) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a linear sRGB colour."""
    r, g, b = (min(max(c, 0.0), 1.0) for c in rgb_linear)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def seen_as(hex_colour: str, deficiency: str) -> tuple[float, float, float]:
    rgb = _linear(hex_colour)
    matrix = SIMULATIONS[deficiency]
    return _lab([sum(m * c for m, c in zip(row, rgb, strict=True)) for row in matrix])


def delta_e(a: tuple, b: tuple) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


@pytest.mark.parametrize("theme", sorted(style.THEME_BACKGROUNDS))
@pytest.mark.parametrize("name", sorted(style.PALETTE))
def test_every_chart_colour_has_3_to_1_contrast_on_both_themes(name, theme):
    colour = style.PALETTE[name]
    assert contrast(colour, style.THEME_BACKGROUNDS[theme]) >= 3.0, (name, theme)


def test_the_chart_roles_come_from_the_palette():
    roles = [style.CLOSED_FORM, style.TORCH, style.MUTED, style.DECAY, *style.SERIES]
    assert set(roles) <= set(style.PALETTE.values())
    assert len(set(style.SERIES)) == len(style.SERIES)


def _closest(colours: list[str], deficiency: str) -> float:
    seen = [seen_as(c, deficiency) for c in colours]
    return min(delta_e(a, b) for a, b in itertools.combinations(seen, 2))


@pytest.mark.parametrize("deficiency", sorted(SIMULATIONS))
def test_colours_drawn_together_stay_apart_for_colour_blind_students(deficiency):
    # ΔE >= 15 is clearly distinct side by side.
    assert _closest(style.SERIES[: style.DISTINCT_SERIES], deficiency) >= 15
    # The explorer draws these three on one chart.
    assert _closest([style.CLOSED_FORM, style.TORCH, style.DECAY], deficiency) >= 15


def test_the_check_flags_the_pair_students_reported():
    # The old palette's orange and green merged for deuteranopes: the check sees it.
    assert _closest(["#F4A261", "#76B041"], "deuteranopia") < 15


@pytest.mark.parametrize("name", sorted(style.WHITE_TEXT_BACKGROUNDS))
def test_white_text_reads_on_badges_and_primary_buttons(name):
    assert contrast("#FFFFFF", style.WHITE_TEXT_BACKGROUNDS[name]) >= 4.5


def test_streamlit_theme_uses_the_palettes_primary_colour():
    config = (REPO / ".streamlit" / "config.toml").read_text()
    primary = re.search(r'^primaryColor = "(#[0-9A-Fa-f]{6})"', config, re.MULTILINE).group(1)
    assert primary == style.WHITE_TEXT_BACKGROUNDS["primary"]
    assert contrast("#FFFFFF", primary) >= 4.5
    for background in style.THEME_BACKGROUNDS.values():
        assert contrast(primary, background) >= 3.0  # sliders and links on either theme
