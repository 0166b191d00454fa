"""Emoji glyphs: what Chromium draws as an empty box when it has no emoji font."""

from __future__ import annotations

import unicodedata

# Characters below U+1F000 that are shown as emoji by default (Unicode's Emoji_Presentation).
_BMP_EMOJI = set(
    "⌚⌛⏩⏪⏫⏬⏰⏳⏸⏹⏺◽◾☔☕♈♉♊♋♌♍♎♏♐♑♒♓♿⚓⚡⚪⚫⚽⚾⛄⛅⛎⛔⛪⛲⛳⛵⛺⛽✅✊✋✨❌❎❓❔❕❗➕➖➗➰➿⬛⬜⭐⭕"
)
VARIATION_SELECTOR_16 = "\ufe0f"  # asks for the emoji form of the character before it


def emoji_in(text: str) -> list[str]:
    """The emoji glyphs in text, with their Unicode names."""
    found = []
    for char in text:
        if char == VARIATION_SELECTOR_16 or char in _BMP_EMOJI or 0x1F000 <= ord(char) <= 0x1FAFF:
            found.append(f"{char!r} {unicodedata.name(char, '?')}")
    return found
