"""Parse the default CSS of the imported widget classes before a screen first mounts them.

Textual parses a widget class's ``DEFAULT_CSS`` when the first widget of that class is
registered, on the UI thread, inside the frame that shows it: Browse's first open parsed the
~12 sources of classes Home had not shown (Select, DataTable, Input, ... and their parts),
about a sixth of the UI thread's time before its first frame (profiled). Those parses are cached by the stylesheet, keyed by the source and
where it came from. ``prime_default_css`` fills that cache ahead of time (from a worker thread,
while the app is idle): registering the widgets later finds every source parsed.

It uses ``Stylesheet._parse_rules`` (Textual's own cached parse, not a copy of it). Were that
to change shape in a later Textual, priming does nothing and the parse is paid as before.
"""

from __future__ import annotations

from textual.css.stylesheet import Stylesheet
from textual.widget import Widget


def imported_widget_types() -> list[type[Widget]]:
    """Every subclass of ``Widget`` imported so far (Textual's own and ours)."""
    seen: set[type[Widget]] = set()
    found: list[type[Widget]] = []
    todo: list[type[Widget]] = [Widget]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                found.append(sub)
                todo.append(sub)
    return found


def default_css_sources(widget_type: type[Widget]) -> list[tuple[tuple[str, str], str, int, str]]:
    """The ``(where, css, tie_breaker, scope)`` sources a widget of ``widget_type`` adds to the
    stylesheet as it registers, as Textual computes them (it reads only the class)."""
    bare = widget_type.__new__(widget_type)  # not initialised: only its class is read
    return bare._get_default_css()


def prime_default_css(stylesheet: Stylesheet) -> int:
    """Parse every imported widget class's default CSS into ``stylesheet``'s parse cache;
    the number of sources parsed now (0 when all were, or when Textual's parse moved)."""
    parse = getattr(stylesheet, "_parse_rules", None)
    cache = getattr(stylesheet, "_parse_cache", None)
    if parse is None or cache is None or not hasattr(cache, "grow"):
        return 0
    wanted = []
    for widget_type in imported_widget_types():
        try:
            wanted.extend(default_css_sources(widget_type))
        except Exception:  # an odd class: its widgets parse their CSS as they register
            continue
    # the cache is a bounded LRU (64 in Textual 8): room for every source, or priming would
    # evict what the screens on show use, and each new widget class re-parse them
    cache.grow(len(cache) + len(wanted) + 64)
    parsed = 0
    for read_from, css, tie_breaker, scope in wanted:
        if (css, read_from, True, tie_breaker, scope) in cache:
            continue
        try:
            parse(
                css,
                read_from=read_from,
                is_default_rules=True,
                tie_breaker=tie_breaker,
                scope=scope,
            )
        except Exception:  # invalid CSS is reported by Textual when it is used
            continue
        parsed += 1
    return parsed
