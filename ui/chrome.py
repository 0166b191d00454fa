"""Page chrome shared by every page: config, a sidebar menu with readable names, and what makes
every page readable by every student (caption contrast, keyboard access to scrolling code)."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ui import clicks, link_pins

# (script, label, icon): Streamlit would name the home page "app" after its file.
PAGES = [
    ("app.py", "Schedule explorer", ":material/trending_down:"),
    ("pages/1_Live_training.py", "Live training", ":material/model_training:"),
    ("pages/2_StepLR_lab.py", "StepLR lab", ":material/science:"),
    ("pages/3_Present.py", "Presenter mode", ":material/co_present:"),
]

# Streamlit draws captions at 60% opacity: 3.8:1 on the light theme, below WCAG AA's 4.5:1 for
# small text, and code inside a caption fades with it (3.0:1). At 80% the caption text has 6.9:1
# and its code 4.7:1 on either theme's backgrounds (tests/figures/test_palette.py computes it;
# tests/e2e/test_accessibility_browser.py runs axe-core). A slider's value is small text in the
# primary colour, which cannot reach 4.5:1 on the dark sidebar while white button labels on the
# same colour keep theirs: it takes the text colour instead, and so does the chosen option of a
# segmented control or pills (primary on its own tint: 4.48:1 light, 3.57:1 dark; the tint and the
# border still mark the choice). The keyed element draws nothing.
CAPTION_OPACITY = 0.8
# Streamlit's code colours (the same in both themes) reach only 2.6-3.8:1 on a code block's
# background: each token keeps 40% of its colour, mixed into the text colour (currentColor),
# which gives 6.3:1 or more on either theme. Tokens of other kinds take the text colour.
CODE_TOKEN_COLOURS = {
    "keyword": "#1c83e1",
    "comment": "#808495",
    "punctuation": "#808495",
    "operator": "#ed6f13",
    "number": "#29b09d",
    "string": "#09ab3b",
    "function": "#1c83e1",
    "boolean": "#1c83e1",
    "class-name": "#803df5",
    "decorator": "#803df5",
}
CODE_TOKEN_SHARE = 0.4
CODE_TOKEN_CSS = '[data-testid="stCode"] .token { color: inherit !important; }\n' + "".join(
    f'[data-testid="stCode"] .token.{kind} {{ color: color-mix(in srgb, {colour} '
    f"{CODE_TOKEN_SHARE:.0%}, currentColor) !important; }}\n"
    for kind, colour in CODE_TOKEN_COLOURS.items()
)
A11Y_CSS = f"""<style>
{CODE_TOKEN_CSS}div[data-testid="stCaptionContainer"] {{ opacity: {CAPTION_OPACITY}; }}
div[data-testid="stSliderThumbValue"] {{ color: inherit; }}
button[data-variant="segmented_control"][data-selected],
button[data-variant="pills"][data-selected] {{ color: inherit !important; }}
[class*="st-key-steplr_a11y"] {{ display: none; }}
.st-key-train_epoch_log [data-testid="stText"] {{
  font-family: "Source Code Pro", ui-monospace, monospace; font-size: 0.875rem;
  background: rgba(128, 128, 128, 0.1); border-radius: 0.5rem; padding: 0.75rem 1rem;
}}
</style>"""

# A code block wider than its column (a phone, a narrow column) scrolls sideways, which a
# keyboard cannot do unless the block takes the focus: give every scrolling block a tab stop.
# Mounted beside code only (focusable_code): on other pages its watching every DOM change (a
# chart draws hundreds) and measuring code blocks would slow the first paint for nothing.
FOCUSABLE_CODE_JS = """
export default function () {
  let pending = 0;
  const mark = () => {
    pending = 0;
    for (const pre of document.querySelectorAll('[data-testid="stCode"] pre')) {
      const scrolls = pre.scrollWidth > pre.clientWidth || pre.scrollHeight > pre.clientHeight;
      if (scrolls && !pre.hasAttribute("tabindex")) {
        pre.setAttribute("tabindex", "0");
        pre.dataset.steplrFocusable = "1";
      } else if (!scrolls && pre.dataset.steplrFocusable) {
        pre.removeAttribute("tabindex");
        delete pre.dataset.steplrFocusable;
      }
    }
  };
  const later = () => { if (!pending) pending = requestAnimationFrame(mark); };
  const observer = new MutationObserver(later);
  observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  window.addEventListener("resize", later);
  later();
  return () => {
    observer.disconnect();
    window.removeEventListener("resize", later);
    if (pending) cancelAnimationFrame(pending);
  };
}
"""
_focusable_code = st.components.v2.component("steplr_viz_focusable_code", js=FOCUSABLE_CODE_JS)


def page_setup(title: str, icon: str) -> None:
    """Set the page config, keep the link the server set, draw the menu atop the sidebar."""
    st.set_page_config(page_title=f"{title} · steplr-viz", page_icon=icon, layout="wide")
    if link_pins.restore_params():  # before anything reads the link
        clicks.forget()  # a click the last page never acted on is dropped, not done here
    with st.sidebar:
        for script, label, page_icon in PAGES:
            try:
                st.page_link(script, label=label, icon=page_icon)
            except StreamlitAPIException:  # AppTest runs one page alone, without the others
                st.caption(f"{page_icon} {label}")
        st.divider()
        st.html(A11Y_CSS)


def focusable_code(site: str) -> None:
    """Give the code blocks on the page a tab stop where they scroll; call it beside st.code."""
    _focusable_code(key=f"steplr_a11y_{site}")
