"""Using a page with the keyboard alone: Tab to things, see where focus is and whether it shows."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Page, Response

_COLOUR = re.compile(r"rgba?\([^)]*\)")
"""Colours as getComputedStyle gives them: rgb(r, g, b) or rgba(r, g, b, a)."""

MAX_TAB_STOPS = 400
"""More tab stops than this on one page and we call it a keyboard trap (or a page to split)."""

_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const clear = colour => colour === 'transparent' || /^rgba\\(.*,\\s*0\\)$/.test(colour);
  let background = 'transparent';
  for (let node = el; node && clear(background); node = node.parentElement) {
    background = getComputedStyle(node).backgroundColor;
  }
  const box = el.getBoundingClientRect();
  return {
    key: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : ''),
    text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 60),
    href: el.getAttribute('href'),
    outline: [style.outlineStyle, parseFloat(style.outlineWidth) || 0, style.outlineColor],
    shadow: style.boxShadow,
    background: clear(background) ? 'rgb(255, 255, 255)' : background,
    inViewport: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
      && box.left < innerWidth && box.top < innerHeight,
  };
}"""


@dataclass
class Focus:
    key: str
    text: str
    href: str | None
    outline: list
    shadow: str
    background: str
    in_viewport: bool

    def __str__(self) -> str:
        return f"<{self.key}> {self.text!r}"

    def indicator_contrast(self) -> float:
        """The best contrast any part of the focus indicator (outline, box-shadow) has with the background."""
        colours = []
        style, width, colour = self.outline
        if style != "none" and width > 0:
            colours.append(colour)
        if self.shadow and self.shadow != "none":
            colours += _COLOUR.findall(self.shadow)
        return max((contrast(colour, self.background) for colour in colours), default=1.0)


def focused(page: Page) -> Focus | None:
    found = page.evaluate(_FOCUSED)
    if found is None:
        return None
    found["in_viewport"] = found.pop("inViewport")
    return Focus(**found)


def focused_matches(page: Page, selector: str) -> bool:
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def tab_to(page: Page, selector: str, max_presses: int = MAX_TAB_STOPS, *, backwards: bool = False) -> int:
    """Presses Tab (Shift+Tab `backwards`) until the focused element matches `selector`; returns
    how many presses it took."""
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for presses in range(1, max_presses + 1):
        page.keyboard.press(key)
        if focused_matches(page, selector):
            return presses
        seen.append(str(focused(page)))
    raise AssertionError(f"{selector} not reached with {max_presses} {key}s; focus went {' → '.join(seen[:40])} …")


def press_and_follow(page: Page, key: str = "Enter") -> Response | None:
    """Presses `key` (on a link or a form's button) and waits for the page it leads to: the
    final response, after any redirects."""
    with page.expect_navigation() as navigation:
        page.keyboard.press(key)
    return navigation.value


def type_into(page: Page, selector: str, text: str, *, backwards: bool = False) -> None:
    """Tab to a text field, replace what it holds with `text`, as typed."""
    tab_to(page, selector, backwards=backwards)
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)


def in_viewport(page: Page, selector: str) -> bool:
    """Whether the first element matching `selector` is at least partly in the window."""
    return page.evaluate(
        """s => { const box = document.querySelector(s).getBoundingClientRect();
                  return box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth; }""",
        selector,
    )


def tab_stops(page: Page) -> list[Focus]:
    """Every element Tab reaches from the top of the page, in order, until focus leaves the page."""
    stops: list[Focus] = []
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        focus = focused(page)
        if focus is None or (stops and focus.key == stops[0].key and focus.text == stops[0].text):
            return stops
        stops.append(focus)
    raise AssertionError(f"more than {MAX_TAB_STOPS} tab stops, or a keyboard trap: last ones {stops[-5:]}")


def _rgb(colour: str) -> tuple[float, float, float, float]:
    parts = [float(p) for p in re.findall(r"[\d.]+", colour)]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio; a see-through foreground counts as no contrast at all."""
    *fg, alpha = _rgb(foreground)
    *bg, _ = _rgb(background)
    if alpha < 0.5:
        return 1.0

    def luminance(rgb) -> float:
        channels = [c / 255 for c in rgb]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
