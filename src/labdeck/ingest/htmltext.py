"""Anki field HTML to plain text: block tags become line breaks, images and sounds become
``[image: file]`` / ``[sound: file]`` references, entities are decoded, scripts and styles
dropped. The result goes through ``clean_text`` like every imported text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from labdeck.ingest.common import clean_text

_BLOCKS = {"br", "div", "p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ul", "ol"}
_SKIP = {"style", "script", "head", "title"}
_SOUND = re.compile(r"\[sound:([^\]]+)\]")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "img":
            src = dict(attrs).get("src") or "?"
            self.parts.append(f"[image: {src}]")
        elif tag == "li":
            self._newline()
            self.parts.append("- ")
        elif tag in ("br", "hr"):
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self._newline()

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS and tag not in ("br", "hr"):
            self._newline()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(_SOUND.sub(lambda m: f"[sound: {m.group(1)}]", html))
    parser.close()
    text = clean_text("".join(parser.parts)).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
