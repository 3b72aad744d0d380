"""``SteadyFooter`` whose keys are born in the footer's compact state.

Textual's ``FooterKey`` starts compact (``compact = reactive(True)``) and is then bound to the
footer's ``compact`` (False): mounting a key toggles its ``-compact`` class on and off again,
and each toggle restyles the key. For Home's ten keys that was ~50 ms of CPU between the
first frame and the frame with the footer's keys (cProfile: ``FooterKey._watch_compact``,
51 calls). A key given the footer's value before it mounts toggles nothing.
"""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from labdeck.tui.widgets.steadyfooter import SteadyFooter, Wanted


class QuickFooter(SteadyFooter):
    """``SteadyFooter`` (keys changed in place) with keys that mount already settled."""

    def _key(self, known: Wanted, now: Wanted | None) -> FooterKey:
        key = super()._key(known, now)
        if not known.palette:  # the palette key is not bound to the footer's compact
            key.set_reactive(FooterKey.compact, self.compact)
        return key
