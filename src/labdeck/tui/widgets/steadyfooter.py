"""A footer that changes its keys in place instead of recomposing.

Textual's ``Footer`` removes and mounts all its keys on every bindings change (each phase of
the review screen, each focus change). Styling the new keys was most of the wait after grading
and after accepting an answer (issue 19.1). ``SteadyFooter`` shows the same keys, in the same
order, from the same ``screen.active_bindings``; a key that goes is hidden, one that comes back
is shown again, one whose enabled state flips is restyled. It composes every key the screen
and the app could show in its first composition (hidden until active; ``Footer`` composes
nothing until the bindings are known and then recomposes, a second mount and layout when a
screen opens), and recomposes only for a key it has never seen.
A screen that has just changed its bindings can call ``sync_now`` to have the footer follow
in the same frame (the update is otherwise left for after the current message).
Grouped bindings (``Binding.group``) are left to ``Footer``'s own composition.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

Slot = tuple[str, str]  # (key, action) of one footer key
PALETTE = "-command-palette"
ROOMY = "-roomy"  # the narrow screen's CSS shows the palette key only then
PALETTE_CELLS = 13  # the palette key below 100 columns: its border, " ^p", " palette", padding


@dataclass(frozen=True)
class Wanted:
    slot: Slot
    binding: Binding
    enabled: bool
    tooltip: str
    palette: bool = False


def hide(key: FooterKey, hidden: bool) -> None:
    """Hide a key by an inline rule, or drop that rule (the stylesheet decides again: the
    narrow screen's CSS hides the palette key)."""
    if hidden != key.styles.inline.has_rule("display"):
        if hidden:
            key.styles.display = "none"
        else:
            key.styles.clear_rule("display")  # (clearing a rule does not refresh by itself)
            key.refresh(layout=True)


def crowded(keys: Iterable[FooterKey], width: int) -> bool:
    """Whether the palette key would not fit beside the shown ``keys`` at the narrow spacing
    (" key description" each; the CSS of 80 columns)."""
    used = 0
    for key in keys:
        if key.has_class(PALETTE) or key.styles.inline.has_rule("display"):
            continue
        used += 1 + cell_len(key.key_display or key.key) + 1 + cell_len(key.description)
    return used + PALETTE_CELLS > width


def merge(known: list[Slot], wanted: list[Slot]) -> list[Slot]:
    """``wanted`` in its order, with the other ``known`` slots kept where they stood."""
    out: list[Slot] = []
    seen: set[Slot] = set()
    want = set(wanted)
    position = 0
    for slot in wanted:
        if slot in known:
            index = known.index(slot)
            for old in known[position:index]:
                if old not in want and old not in seen:
                    out.append(old)
                    seen.add(old)
            position = max(position, index + 1)
        out.append(slot)
        seen.add(slot)
    out += [old for old in known[position:] if old not in want and old not in seen]
    return out


class SteadyFooter(Footer):
    """``Footer`` with its keys updated in place (see the module docstring)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._order: list[Slot] = []  # the keys mounted, in order
        self._known: dict[Slot, Wanted] = {}
        self._sync_pending = False
        self._grouped = False

    def _wanted(self) -> list[Wanted] | None:
        """The keys ``Footer`` would show now, in its order (None: grouped bindings)."""
        active = self.screen.active_bindings
        wanted: list[Wanted] = []
        actions: set[str] = set()
        for _node, binding, enabled, tooltip in active.values():
            if not binding.show:
                continue
            if binding.group is not None:
                return None
            if binding.action in actions:  # Footer shows an action's first key
                continue
            actions.add(binding.action)
            wanted.append(Wanted((binding.key, binding.action), binding, enabled, tooltip))
        return wanted + self._wanted_palette()

    def _wanted_palette(self) -> list[Wanted]:
        """The command palette's key, last, as ``Footer`` shows it (when it is active)."""
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return []
        if getattr(self.screen, "PALETTE_OFF", None):  # a screen that has it off (an exam)
            return []
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is None:
            return []
        _node, binding, enabled, _tooltip = palette
        slot = (binding.key, binding.action)
        return [Wanted(slot, binding, enabled, binding.tooltip or binding.description, True)]

    def _every_key(self) -> list[Wanted]:
        """Every key the screen and the app could show, in their order, so that the first
        composition has them all (hidden until active) and no later phase recomposes. (The
        binding maps are Textual's own, as ``Screen._binding_chain`` reads them.)"""
        seen: set[str] = set()
        out: list[Wanted] = []
        for node in (self.screen, self.app):
            for bindings in node._bindings.key_to_bindings.values():
                for binding in bindings:
                    if binding.show and binding.group is None and binding.action not in seen:
                        seen.add(binding.action)
                        slot = (binding.key, binding.action)
                        out.append(Wanted(slot, binding, True, binding.tooltip))
        return out + self._wanted_palette()  # (active when the app offers it at all)

    def compose(self) -> ComposeResult:
        # Before the bindings are known every key is composed hidden; the first sync shows
        # the active ones in place.
        wanted = self._wanted() if self._bindings_ready else []
        self._grouped = wanted is None
        if wanted is None:
            self._order = []
            yield from super().compose()
            return
        if not self._known:
            seed = self._every_key()
            self._known.update((w.slot, w) for w in seed)
            self._order = [w.slot for w in seed]
        self._known.update((w.slot, w) for w in wanted)
        self._order = merge(self._order, [w.slot for w in wanted])
        now = {w.slot: w for w in wanted}
        keys = [self._key(self._known[slot], now.get(slot)) for slot in self._order]
        self._fit_palette(keys)
        yield from keys

    def _fit_palette(self, keys: Iterable[FooterKey], width: int | None = None) -> None:
        """Below 100 columns the palette key is shown only where it fits beside the screen's
        keys (Home at 80 columns has room; Review has not). ``width``: the footer's, or the
        app's before the footer is laid out."""
        width = width or self.size.width or self.app.size.width
        self.set_class(not crowded(keys, width), ROOMY)

    def on_resize(self, event: events.Resize) -> None:
        if not self._grouped:
            self._fit_palette(self._keys(), event.size.width)

    def _key(self, known: Wanted, now: Wanted | None) -> FooterKey:
        state = now or known
        binding = state.binding
        key = FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            binding.description,
            binding.action,
            disabled=not state.enabled,
            tooltip=state.tooltip or "",
            classes=PALETTE if state.palette else "",
        )
        if not state.palette:
            # Born with the footer's compactness: FooterKey's default (compact) and the bound
            # value (not compact) restyled each key twice as it mounted, 40 restyles a screen.
            key.set_reactive(FooterKey.compact, self.compact)
            key.set_class(self.compact, "-compact", update=False)
            key.data_bind(compact=Footer.compact)
        if now is None:
            hide(key, True)
        return key

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._sync_pending:
            self._sync_pending = True
            self.call_later(self._sync)  # with the change that caused it, in the same frame

    def _keys(self) -> Iterator[FooterKey]:
        return iter(self.query_children(FooterKey))

    async def _sync(self) -> None:
        self._sync_pending = False
        if self.is_attached and not self.sync_now():
            await self.recompose()

    def sync_now(self) -> bool:
        """Show the screen's active keys now, in place; False when that takes a recomposition
        (a key never seen, a new order, grouped bindings), which is left to the caller."""
        self._bindings_ready = True
        wanted = self._wanted()
        if wanted is None or self._grouped:
            return False
        slots = [w.slot for w in wanted]
        mounted = {(k.key, k.action): k for k in self._keys()}
        in_order = [slot for slot in self._order if slot in set(slots)]
        if any(slot not in mounted for slot in slots) or in_order != slots:
            return False
        now = {w.slot: w for w in wanted}
        for slot, key in mounted.items():  # each change costs a layout: only the changes
            state = now.get(slot)
            hide(key, state is None)
            if state is not None and key._disabled == state.enabled:  # enabled state flipped
                key._disabled = not state.enabled
                key.set_class(not state.enabled, "-disabled")
            if state is not None and key.description != state.binding.description:
                key.description = state.binding.description  # a key named for what it does
                key.refresh(layout=True)  # now (Review's ctrl+s: grade, or check a drill)
        self._fit_palette(mounted.values())
        return True
