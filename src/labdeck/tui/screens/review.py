"""Review: prompt, typed answer, grade panel with key points, SM-2 quality 0–5, undo.

Flow: ``answering`` (type, then ctrl+s to grade, or space on an empty box to reveal) ->
``grading`` -> ``rating`` -> the answer is committed in a worker, and only then does the next
card appear.

Rating a graded answer (keys in ``labdeck.tui.bindings``): the key points are a numbered
checklist starting from the grader's verdicts. When the grader is sure, ``enter`` accepts its
suggested quality (one key). When it is unsure, the screen says so and nothing is on offer:
``enter`` first confirms the grader's ticks (showing the quality they imply), a second
``enter`` records it. ``1``–``9`` toggle a point; from the first toggle on, the quality on offer
is the one the ticks imply (``labdeck.grading.checklist``), shown live, and ``enter`` records
it. ``=`` then ``0``–``5`` rates directly. Without a checklist (revealed answer, no reference,
grading failed) ``0``–``5`` rate directly. Keys pressed while the answer is being graded act as
soon as the grade is shown. The ticks, the grader's confidence and verdict are stored with the
review.

Leaving with an unrated answer (``esc``/``q`` after grading, ``u`` undo) keeps it as a draft
(``Services.drafts``): it comes back, graded and ticked as it was, when the card is shown again.

Each rating shows what it does next (``Next: 0–3 → again today, then 1d  4 → 1d  5 → 6d``,
qualities that do the same thing as one entry): the wording of the very
transitions ``Scheduler.preview`` computes, and the one picked is the one ``answer`` applies
(``previewed=``; if the card changed meanwhile the intervals are shown again).

Speed (issue 19.1): the card's texts (prompt, reference, notes) are rendered to literal Rich
text in the worker that loads the card (``Prepared``, kept in ``Services.rendered``), and the
next cards in the queue are rendered there too while this one is studied; Home renders the
first card of its highlighted scope the same way (``prepare_first``), so grading, accepting and
opening the screen only put prepared text into widgets that are already mounted (a kept
rendering is reused only while the card's content is the one it was rendered from). The first
card starts loading while the screen is composed (shown by ``on_mount`` when it is ready by
then: the first frame has its text). ``ctrl+s`` starts the grading thread before anything is
drawn and lays out, while the encoder runs (its numpy work releases the GIL), everything that
does not depend on the grade: the read-only box, the grade panel saying "Grading your
answer…", the reference, the notes, the next intervals; the grading thread builds the grade
panel's text (``grade_text``), so the grade only swaps one text in and scrolls. Each step the
learner sees (a card, "grading", the feedback) is laid out and drawn at once, in one frame
with the footer's keys, the focus, the scroll bars and the scroll that shows the grade
(``draw_now``), not on the frame timer's next tick and again for each of those.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.message import Message
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Header, Static, TextArea

from labdeck.grading.checklist import Ticks, verdict_of
from labdeck.srs.step import Stale, Transition, preview_label
from labdeck.textfmt import counted, math_as_text, one_line
from labdeck.tui.bindings import RATE_BINDINGS, RatingKeys
from labdeck.tui.cells import fit
from labdeck.tui.drafts import Draft
from labdeck.tui.literal import plain
from labdeck.tui.screens.base import LabdeckScreen
from labdeck.tui.screens.home import Scope, counts_text
from labdeck.tui.widgets.bottomline import BottomLine
from labdeck.tui.widgets.cardtext import CardText, RenderedText
from labdeck.tui.widgets.checklist import (
    bullet_text,
    checklist_text,
    tick_keys_note,
    tick_with,
    toggle_range,
)
from labdeck.tui.widgets.editors import TextEditor
from labdeck.tui.widgets.scorebar import score_bar
from labdeck.tui.widgets.steadyfooter import SteadyFooter

if TYPE_CHECKING:
    from datetime import date

    from labdeck.drills.grade import DrillResult
    from labdeck.grading.grader import GradeResult
    from labdeck.srs.outcomes import Counts, QueueEntry
    from labdeck.srs.scheduler import Scheduler
    from labdeck.tui.services import RenderedCards, Services

QUALITY_WORDS = {
    0: "blackout",
    1: "wrong, familiar",
    2: "wrong, easy on sight",
    3: "hard",
    4: "good",
    5: "perfect",
}


if TYPE_CHECKING:
    _Focusable = Widget
else:  # a plain mixin: a Widget base of its own would hide TextArea's COMPONENT_CLASSES
    _Focusable = object


class DrawnFocus(_Focusable):
    """For a widget whose focus changes ``draw_now`` applies and draws in the frame that shows
    them: its Focus / Blur event, handled after that frame, finds it drawn and asks for no
    repaint (one more frame, while the grader or the next card's worker wanted the GIL)."""

    def _on_focus(self, event: events.Focus) -> None:
        if self.has_focus:
            event.prevent_default()  # (Widget's handler: has_focus, a repaint, this message)
            if self.parent is not None:
                self.parent.post_message(events.DescendantFocus(self))

    def _on_blur(self, event: events.Blur) -> None:
        if not self.has_focus:
            event.prevent_default()
            if self.parent is not None:
                self.parent.post_message(events.DescendantBlur(self))


class AnswerBox(DrawnFocus, TextEditor):
    """The answer editor. Space as the very first keystroke reveals the answer instead."""

    class Reveal(Message):
        pass

    class Check(Message):
        """Enter in a drill card's one-line reply: check it."""

    single_line = False  # a drill card's reply: enter checks it instead of a new line

    def render_lines(self, crop: Region) -> list[Strip]:
        # TextArea re-wraps on its Resize event, after the frame at the new width has been
        # drawn from the old wrap (a wide character at the edge cut off), and then does not
        # repaint; nor does it re-wrap when its own scroll bar comes or goes. So the wrap is
        # checked against the width whenever lines are drawn, in the frame that draws them
        # (issue 15.6).
        if self.soft_wrap and self.wrapped_document._width != self.wrap_width:
            self._rewrap_and_refresh_virtual_size()
        return super().render_lines(crop)

    def restate(self, read_only: bool, **classes: bool) -> None:
        """``read_only`` and the CSS classes (``drill=True`` → ``-drill``) changed together,
        restyled once (each alone restyles the box: 5-10 ms a card on the UI thread)."""
        wanted = {"-read-only": read_only} | {f"-{name}": on for name, on in classes.items()}
        if self.read_only == read_only and all(self.has_class(c) == on for c, on in wanted.items()):
            return  # (as it is: the grading frame put it so)
        self.set_reactive(TextArea.read_only, read_only)  # (its watcher only sets the class)
        self.update_classes(wanted)
        self.refresh()

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "space" and not self.text.strip() and not self.read_only:
            event.stop()
            event.prevent_default()
            self.post_message(self.Reveal())
            return
        if event.key == "enter" and self.single_line and not self.read_only:
            event.stop()
            event.prevent_default()
            self.post_message(self.Check())
            return
        await super()._on_key(event)


class ReviewBody(DrawnFocus, VerticalScroll):
    """The scrolling body. Its focus restyles itself only: no rule styles a child by the
    body's focus (labdeck.tcss), and Textual's restyle of every descendant (the answer box's
    the dearest) ran twice a card, as the body took the focus and gave it back."""

    def watch_has_focus(self, _has_focus: bool) -> None:
        self.app.stylesheet.update_nodes([self], animate=True)


@dataclass
class CardView:
    card_id: int
    key: str
    kind: str
    prompt: str
    prompt_zh: str | None
    answer: str | None
    key_points: list[str]
    notes: str | None
    demos: list[str]
    chapter: str
    card_type: str = "essay"  # essay | cloze | choice | truefalse
    drill: dict[str, Any] | None = None  # a drill card's own data
    showing: Any = None  # a drill card as shown now (labdeck.drills.present.Showing)
    parent_answer: str | None = None  # a drill's essay reference, shown after checking
    note_flag: str | None = None  # 'check your note': a shipped correction for the notes

    @property
    def is_drill(self) -> bool:
        return self.showing is not None


@dataclass(frozen=True)
class Prepared:
    """A card ready to show: its view and its texts rendered (in a worker), with the content
    they were rendered from (a card edited or answered since is rendered again)."""

    source: tuple[Any, str | None]  # (CardInfo, the parent essay's answer)
    view: CardView
    prompt: RenderedText
    prompt_zh: RenderedText | None
    reference: RenderedText | None
    notes: RenderedText | None


PREFETCH = 2  # queue entries after the current one rendered ahead
# seconds after a card is drawn: its last frames (scroll bars, resized widgets) drawn first,
# long before an answer to it can be typed and graded
PREFETCH_AFTER = 0.1
FIRST_CARD_WAIT = 0.3  # seconds the first frame waits for the first card (no blank frame)
SAVING_SHOWN_AFTER = 0.25  # seconds a save takes before the key line says "saving…"


DRILL_LABELS = {"cloze": "cloze", "choice": "choice", "truefalse": "true/false"}
DRILL_HINTS = {
    "cloze": "type the missing text",
    "choice": "type the letter(s)",
    "truefalse": "type t or f",
}


def _drill_prompt(card: CardView, prompt: str) -> str:
    """A drill's question as Markdown: its text, then its options or how to answer."""
    showing = card.showing
    lines = [prompt, ""]
    if card.card_type == "choice":
        lines += [f"- **{'abcdef'[i]})** {opt}" for i, opt in enumerate(showing.options)]
        lines += ["", "*Choose all that apply.*" if showing.multiple else "*Choose one.*"]
    elif card.card_type == "truefalse":
        lines.append("*True or false?*")
    else:
        lines.append("*Type the missing text.*")
    return "\n".join(lines)


def _prompt_source(card: CardView, prompt: str) -> str:
    return _drill_prompt(card, prompt) if card.is_drill else prompt


def _reference(card: CardView) -> RenderedText | None:
    """The reference panel: an essay's reference answer, a drill's essay reference."""
    if card.is_drill:
        if not card.parent_answer:
            return None
        return RenderedText.of("### From the essay card\n\n" + card.parent_answer)
    if card.answer:
        return RenderedText.of("### Reference\n\n" + card.answer)
    return RenderedText.of("### Reference\n\n*No reference answer yet (self-graded card).*")


def _notes(card: CardView) -> RenderedText | None:
    if not card.notes:
        return None
    flag = f"> **Check your note:** {card.note_flag}\n\n" if card.note_flag else ""
    return RenderedText.of("### My notes\n\n" + flag + card.notes)


def draw_now(screen: Screen[Any], between: Callable[[], None] | None = None) -> None:
    """Lay out and draw ``screen`` now, with every change made so far in this callback.

    Textual draws on its frame timer's next tick, after each changed widget's idle handler has
    asked for a layout or a repaint, and a focus change restyles the widgets only when their
    Focus and Blur events are handled; the footer's update, a scroll that needs the new layout
    and the scroll bars that follow a layout then cost one more layout and frame each (the
    grade panel took three to five frames over 40-70 ms after grading). Here the focus styles
    are applied, the widgets' pending requests taken as their idle handlers would take them
    (``Widget._check_refresh``), the screen laid out until no widget asks for another layout,
    and drawn once. ``between`` runs after the layout and before the drawing (a scroll to a
    widget just laid out). Nothing is drawn for a screen that is not the current one or during
    a batch update; ``between`` then runs after the next refresh."""
    app = screen.app
    if not screen.is_current or app._batch_count or not screen.outer_size:
        if between is not None:
            screen.call_after_refresh(between)
        return
    focused = screen.focused
    for widget in screen.walk_children(Widget):
        if widget.has_focus != (widget is focused):  # what its Focus / Blur event will do
            widget.has_focus = widget is focused
    with app.batch_update():  # laid out, not drawn
        for _ in range(4):  # a layout can ask for one more (scroll bars, virtual sizes)
            if not _take_requests(screen):
                break
            screen._refresh_layout()
        if between is not None:
            between()
            _take_requests(screen)
            screen._refresh_layout()
    screen._compositor.update_widgets(screen._dirty_widgets)
    screen._compositor_refresh()


def _take_requests(screen: Screen[Any]) -> bool:
    """Take the widgets' pending layout and repaint requests (as ``Widget._check_refresh``
    would at their idle time, without the messages); True when any asked for a layout."""
    layout = False
    for widget in _with_scrollbars(screen.walk_children(Widget)):
        if widget._repaint_required:
            widget._repaint_required = False
            if widget.display:
                screen._dirty_widgets.add(widget)
        widget._scroll_required = False  # the layout places scrolled children
        if widget._layout_required:
            widget._layout_required, layout = False, True
            for ancestor in widget.ancestors:  # their arrangements are stale
                if not isinstance(ancestor, Widget):
                    break
                ancestor._clear_arrangement_cache()
                ancestor._layout_updates += 1
                if not ancestor.styles.auto_dimensions:
                    break
    return layout


PANEL_GUTTER = 4  # a .panel's border and padding, left and right


def grade_text(
    key_points: Sequence[str],
    result: GradeResult | None,
    ticks: Ticks | None,
    armed: bool,
    offer: int | None,
    width: int,
) -> Text:
    """The grade panel's text: score, sure/unsure, what enter does, the checklist wrapped to
    ``width`` (or, without a grade, the key points to rate oneself by). Pure Rich text: the
    grading thread builds the first one, so the UI thread only puts it in place."""
    text = Text()
    if result is not None:
        text.append("Score ", style="bold")
        text.append_text(score_bar(result.score))
        if result.sure:
            text.append(
                f"   suggested quality {result.quality} ({QUALITY_WORDS[result.quality]})",
                style="bold",
            )
        else:
            text.append("   unsure — tick what you covered", style="bold yellow")
        text.append("\n")
        if ticks is not None:
            if offer is None:
                text.append(
                    f"Nothing rated yet: {tick_with(ticks)}, then enter · "
                    "enter twice keeps these\n",
                    style="yellow",
                )
            elif ticks.changed or armed:
                text.append(
                    f"ticks imply {offer} ({QUALITY_WORDS[offer]}) — enter records it\n",
                    style="bold",
                )
            else:
                text.append(f"enter accepts {offer} · {tick_with(ticks)} to correct\n", style="dim")
            spans = [k.span for k in result.key_points]
            text.append_text(checklist_text(ticks, spans, width if width > 20 else 72))
    else:
        text.append("Rate yourself: ", style="bold")
        text.append(" · ".join(f"{q} {word}" for q, word in QUALITY_WORDS.items()) + "\n")
        if key_points:
            text.append("Key points:\n", style="bold")
            text.append_text(bullet_text(key_points, width if width > 20 else 72))
            text.append("\n")
    return text


@dataclass(frozen=True)
class Graded:
    """A graded answer with its checklist and grade panel text, built in the grading thread
    for a panel ``width`` wide."""

    result: GradeResult
    ticks: Ticks | None
    text: Text
    width: int


def _with_scrollbars(widgets: Iterable[Widget]) -> Iterator[Widget]:
    """``widgets`` and their scroll bars (not in the DOM: a scroll bar that comes or goes with
    a layout asked for one more, left to the frame timer's next tick, a second frame)."""
    for widget in widgets:
        yield widget
        yield from widget._get_virtual_dom()


def ticks_of(result: Any) -> Ticks | None:
    """The checklist of a graded answer, starting from the grader's verdicts."""
    if result is None or not result.key_points:
        return None
    return Ticks(
        [k.text for k in result.key_points],
        [verdict_of(k.covered, k.contradicted) for k in result.key_points],
    )


def prepare(scheduler: Scheduler, entry: QueueEntry, rendered: RenderedCards) -> Prepared:
    """The card of ``entry`` with its texts rendered, kept in ``rendered``; a kept one is
    reused while the card's content (as read now) is the one it was rendered from. (A worker
    thread calls this; Rich text is built without the UI.)"""
    card = scheduler.card(entry.card_id)
    parent_answer = None
    if card.kind != "essay" and card.parent_key:
        parent_answer = scheduler.card(card.parent_key).answer
    kept: Prepared | None = rendered.get(entry.card_id)
    if kept is not None and kept.source == (card, parent_answer):
        return replace(kept, view=replace(kept.view, kind=entry.kind, chapter=entry.chapter))
    showing = None
    if card.kind != "essay" and card.drill is not None:
        from labdeck.drills.present import show

        showing = show(card.key, card.kind, card.prompt, card.drill, card.reviews)
    view = CardView(
        card_id=entry.card_id,
        key=card.key,
        kind=entry.kind,
        prompt=card.prompt,
        prompt_zh=card.prompt_zh,
        answer=card.answer,
        key_points=list(card.key_points),
        notes=card.notes,
        demos=list(card.demos),
        chapter=entry.chapter,
        card_type=card.kind,
        drill=card.drill,
        showing=showing,
        parent_answer=parent_answer,
        note_flag=card.note_flag,
    )
    prepared = Prepared(
        source=(card, parent_answer),
        view=view,
        prompt=RenderedText.of(_prompt_source(view, view.prompt)),
        prompt_zh=RenderedText.of(_prompt_source(view, view.prompt_zh)) if view.prompt_zh else None,
        reference=_reference(view),
        notes=_notes(view),
    )
    rendered.put(entry.card_id, prepared)
    return prepared


def prepare_first(services: Services, scope: Scope) -> None:
    """Render the first card of ``scope``'s queue into ``services.rendered`` and import what
    showing it needs, so that opening Review on it is quick (Home calls this in a worker while
    the learner looks at it). Only the rendering is kept: Review reads its queue and the card
    again when it opens."""
    scheduler = services.scheduler()
    queue = scheduler.queue_and_counts(scope.deck, scope.chapter)
    if queue.entries:
        entry = queue.entries[0]
        prepare(scheduler, entry, services.rendered)
        scheduler.preview(entry.card_id)  # (its first call imports the deck's step rules)


class ReviewScreen(RatingKeys, LabdeckScreen):
    BINDINGS = [
        # Not priority bindings: the key travels through the answer box first, so every
        # character typed before it (a fast paste, tmux send-keys) is in the box when it lands.
        Binding("ctrl+s", "submit", "Grade answer"),  # "Check answer" on a drill card
        Binding("escape", "leave_box", "Back", tooltip="Leave box / back"),
        Binding("space", "reveal", "Reveal"),
        Binding("enter", "accept", "Accept / record"),
        *RATE_BINDINGS,
        Binding("u", "undo", "Undo"),
        Binding("s", "suspend", "Suspend"),
        Binding("minus", "bury", "Bury", key_display="-"),
        Binding("r", "run_demo", "Demo"),
        # f2 switches the prompt's language while typing too; z only outside the answer box
        Binding("f2", "toggle_zh", "中/EN"),
        Binding("z", "toggle_zh_letter", "中/EN", show=False),
        Binding("w", "focus_answer", "Write / edit answer", show=False),
        Binding("q", "back", "Home", show=False),
    ]

    # Neither repaints the whole screen when it changes (a reactive's default): the widgets
    # that show a phase or a focus change update and repaint themselves, and the screen-wide
    # repaint drew every line again, a full frame at each key (issue 19.1).
    phase: reactive[str] = reactive("loading", repaint=False)
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__()
        self.scope = scope or Scope()
        self.card: CardView | None = None
        self.result: GradeResult | None = None  # the current answer's, if graded
        self.shown_at = time.monotonic()
        self.answer_ms: int | None = None
        self.show_zh = False
        self.prepared: Prepared | None = None  # the card shown now, rendered
        self.previews: dict[int, Transition] = {}  # quality -> what rating with it applies
        self.ticks: Ticks | None = None  # the checklist of the graded answer
        self.drill_result: DrillResult | None = None  # a drill card's exact verdict
        self._unread_asked: str | None = None  # the drill reply asked again (``_check_drill``)
        self.armed = False  # unsure: the learner confirmed the grader's ticks with enter once
        self.queued: list[tuple[str, int]] = []  # rating keys pressed while grading
        # ctrl+s arrived and its grading has not started yet: the keys that follow in the same
        # burst are rating keys (``route_key``), kept here until it starts
        self._submit_arrived = False
        self._early_keys: list[tuple[str, int]] = []
        self._composed = False  # on_mount has run: the widgets can show a card
        self._early: Callable[[], None] | None = None  # the first card, loaded before that
        self._arrived = asyncio.Event()  # ... and set when it is
        self._asked_grader = False  # the app asked to load the model (after the first card)
        self._counts: Counts | None = None  # the status line's counts, as last shown
        self._prompt_peeked = False  # the status line shows the prompt (scrolled out of view)

    def compose(self) -> ComposeResult:
        self.load_next()  # the first card loads while the widgets are built
        yield Header()
        yield Static(id="review-status")
        with ReviewBody(id="review-body"):
            yield CardText(id="prompt")
            yield AnswerBox(id="answer", soft_wrap=True, tab_behavior="focus")
            yield Static(id="grade", classes="panel")
            yield CardText(id="reference")
            yield CardText(id="notes")
        # Under the body, not in it: the next intervals stay in view at 80×24 while a long
        # checklist, the reference and the notes scroll.
        yield BottomLine(id="intervals")
        yield BottomLine(id="review-keys")
        yield SteadyFooter()

    async def on_mount(self) -> None:
        self.watch(self.query_one("#review-body"), "scroll_y", self._body_scrolled, init=False)
        self.title = "Review"
        self.sub_title = self.scope.label()
        # The first frame waits (briefly: the app runs on meanwhile, only this screen's
        # messages wait) for the card that started loading at compose: it shows its text
        # instead of an empty screen, and the load has the CPU to itself meanwhile.
        if self._early is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), FIRST_CARD_WAIT)
        self._composed = True
        early, self._early = self._early, None
        if early is not None:
            early()

    # ------------------------------------------------------------ loading cards

    @work(thread=True, exclusive=True, group="review-load")
    def load_next(self) -> None:
        self._load(self.services.scheduler())

    def _load(self, scheduler: Scheduler) -> None:
        """Show the queue's first card (in a worker thread), then render the next ones."""
        queue = scheduler.queue_and_counts(self.scope.deck, self.scope.chapter)
        if not queue.entries:
            # today, then a week, of what this screen studies
            forecast = scheduler.forecast(8, self.scope.deck, self.scope.chapter)
            self.to_ui(self._show_empty, forecast, queue.counts)
            return
        entry = queue.entries[0]
        prepared = self._prepare(scheduler, entry)
        previews = scheduler.preview(entry.card_id)
        upcoming = queue.entries[1 : 1 + PREFETCH]
        self.to_ui(self._show_card, prepared, previews, queue.counts, upcoming)

    @work(thread=True, exclusive=True, group="review-prefetch")
    def prefetch(self, entries: list[QueueEntry]) -> None:
        """Render the cards likely to come next while this one is studied."""
        scheduler = self.services.scheduler()
        for entry in entries:
            self._prepare(scheduler, entry)

    def _prepare(self, scheduler: Scheduler, entry: QueueEntry) -> Prepared:
        return prepare(scheduler, entry, self.services.rendered)

    def _status(self, counts: Counts) -> None:
        self._counts = counts
        text = Text.assemble(counts_text(counts.new, counts.redrill, counts.due), "   ")
        room = max(self.app.size.width - 2 - text.cell_len, 8)
        # one line: a long key or prompt is cut with "…", not wrapped out of sight (QA, 80×24)
        if self.card is not None and self._prompt_peeked:
            # the prompt has scrolled out of view (the feedback below it is read): its start
            # stands in for the card's key here, so the question stays in sight (QA, 80×24)
            shown = self.query_one("#prompt", CardText).rendered
            prompt = one_line(shown.blocks.plain) if shown is not None else self.card.prompt
            text.append("Q ", style="bold")
            text.append(fit(prompt, max(room - 2, 6)))
        elif self.card is not None:
            kind = {"new": "new card", "review": "review", "redrill": "re-drill"}[self.card.kind]
            kind = f"{DRILL_LABELS[self.card.card_type]} · {kind}" if self.card.is_drill else kind
            line = f"{self.card.chapter} · {kind} · {self.card.key}"
            text.append(fit(line, room), style="dim")
        self.query_one("#review-status", Static).update(text, layout=False)

    def _body_scrolled(self, _scroll_y: float) -> None:
        """The status line says the prompt while the prompt is scrolled out of view."""
        prompt = self.query_one("#prompt", CardText)
        body = self.query_one("#review-body", ReviewBody)
        hidden = (
            self.card is not None
            and self.phase in ("grading", "rating")
            and body.scroll_y >= prompt.virtual_region_with_margin.bottom
        )
        if hidden != self._prompt_peeked and self._counts is not None:
            self._prompt_peeked = hidden
            self._status(self._counts)

    def _show_card(
        self,
        prepared: Prepared,
        previews: dict[int, Transition],
        counts: Counts,
        upcoming: Sequence[QueueEntry] = (),
    ) -> None:
        if not self.is_attached:  # the learner left while a worker ran
            return
        if not self._composed:  # loaded while the screen was being composed
            self._early = lambda: self._show_card(prepared, previews, counts, upcoming)
            self._arrived.set()
            return
        if upcoming:
            self.set_timer(PREFETCH_AFTER, lambda: self.prefetch(list(upcoming)))
        view = prepared.view
        self.prepared, self.previews = prepared, previews
        self.card, self.result = view, None
        self.drill_result = None
        self._unread_asked = None
        self.ticks, self.armed, self.queued = None, False, []
        self.rate_prefix_armed = False
        self.show_zh = False
        self._prompt_peeked = False
        self._render_prompt()
        box = self.query_one("#answer", AnswerBox)
        box.restate(False, drill=view.is_drill, graded=False)
        box.single_line = view.is_drill
        box.text = ""
        box.display = True
        for widget_id in ("#grade", "#reference", "#notes", "#intervals"):
            self.query_one(widget_id).display = False
        if self.phase == "answering":  # another card in the same phase (after an undo): the
            self._update_hint()  # watcher does not run, and the key line is per card type,
            self.refresh_bindings()  # the footer too (ctrl+s grades or checks, r, 中/EN)
        self.phase = "answering"
        self._status(counts)
        self.shown_at = time.monotonic()
        self.answer_ms = None
        # Focus and scroll now, not after the next frame: one frame shows the new card
        # (the footer's keys for typing included).
        self.set_focus(box, scroll_visible=False)
        self.query_one("#review-body").scroll_home(animate=False, immediate=True)
        draft = self._drafts().pop(view.card_id, None)
        if draft is not None:
            self._restore(draft)  # (draws itself when it shows the answer panels)
        if self.phase == "answering":
            self._draw()
        if not self._asked_grader:  # once this card is on screen (its load holds the GIL)
            self._asked_grader = True
            self.call_after_refresh(self.app.ensure_grader_loading)

    def _draw(self, between: Callable[[], None] | None = None) -> None:
        """The screen as the last change left it, drawn now with the footer's keys."""
        if self._composed and self.is_attached:
            self.query_one(SteadyFooter).sync_now()
            draw_now(self, between)

    def _drafts(self) -> dict[int, Draft]:
        return self.services.drafts

    def _restore(self, draft: Draft) -> None:
        """Bring back an answer the learner left unrated."""
        box = self.query_one("#answer", AnswerBox)
        box.text = draft.text
        box.move_cursor(box.document.end)
        self.answer_ms = draft.answer_ms
        if draft.result is not None and self.card is not None and self.card.is_drill:
            self._show_drill_result(draft.result)
            self.notify("Your checked answer is back: rate it.", timeout=4)
        elif draft.result is not None:
            self.result = draft.result
            self._show_answer_panels(draft.result, draft.ticks)
            self.notify("Your graded answer is back: rate it.", timeout=4)
        else:
            self.notify("Your unfinished answer is back.", timeout=3)

    def keep_draft(self) -> None:
        """The app is quitting: keep the answer on screen, if unrated (``tui.drafts``)."""
        self._keep_draft()

    def _keep_draft(self) -> bool:
        """Keep the current card's unrated answer (typed or graded); True when there was one."""
        card = self.card
        if card is None or self.phase not in ("answering", "grading", "rating"):
            return False
        text = self.query_one("#answer", AnswerBox).text
        if not text.strip() and self.result is None:
            return False
        ticks = self.ticks if self.phase == "rating" else None
        result: GradeResult | DrillResult | None = self.result if self.phase == "rating" else None
        if card.is_drill:
            result = self.drill_result if self.phase == "rating" else None
        self._drafts()[card.card_id] = Draft(text, result, ticks, self.answer_ms)
        return True

    def _show_empty(self, forecast: list[tuple[date, int]], counts: Counts) -> None:
        if not self.is_attached:  # the learner left while a worker ran
            return
        if not self._composed:  # loaded while the screen was being composed
            self._early = lambda: self._show_empty(forecast, counts)
            self._arrived.set()
            return
        self.card, self.prepared = None, None
        self._prompt_peeked = False
        self.phase = "empty"
        lines = ["# Nothing left for today", ""]
        today = forecast[0][1] if forecast else 0
        if today:  # due today beyond the day's limits
            lines += [f"{counted(today, 'more card')} due today, beyond today's limits.", ""]
        lines += ["Tomorrow and the days after:", ""]
        for day, n in forecast[1:]:
            lines.append(f"- {day:%a %d %b}: {counted(n, 'card')}")
        self.query_one("#prompt", CardText).show_markdown("\n".join(lines))
        for widget_id in ("#answer", "#grade", "#reference", "#notes", "#intervals"):
            self.query_one(widget_id).display = False
        self._status(counts)
        self.set_focus(self.query_one("#review-body"), scroll_visible=False)
        self._draw()

    def _render_prompt(self) -> None:
        prepared = self.prepared
        if prepared is None:
            return
        zh = self.show_zh and prepared.prompt_zh is not None
        shown = prepared.prompt_zh if zh and prepared.prompt_zh else prepared.prompt
        self.query_one("#prompt", CardText).show(shown)

    def watch_phase(self, phase: str) -> None:
        if phase == "saving":
            # The save and the next card take a few ms: the rating keys stay drawn until the
            # card replaces them (a "saving…" frame drawn meanwhile took the GIL from the save
            # worker); a slow save (a busy store) says so.
            self.set_timer(SAVING_SHOWN_AFTER, self._still_saving)
            return
        if self._composed:  # (the first card may be shown from on_mount, before is_mounted)
            self._update_hint()
            self.refresh_bindings()

    def _still_saving(self) -> None:
        if self.phase == "saving":
            self._update_hint()
            self.refresh_bindings()

    def _update_hint(self) -> None:
        """The key line above the footer: the keys that act now, and what they do."""
        typing = not self._composed or self._typing()
        if not typing:
            answering = self._outside_box_hint()
        elif self.card is not None and self.card.is_drill:
            answering = DRILL_HINTS[self.card.card_type] + " · enter check · esc leave box"
        else:
            answering = "ctrl+s grade · space (empty box) reveal · esc leave box"
        if typing and self._composed and self.card is not None and self.card.prompt_zh:
            answering += " · f2 中/EN"
        hints = {
            "answering": answering,
            "grading": "grading… (keys pressed now act when the grade is shown)",
            "saving": "saving…",
            "empty": "q home · u undo",
            "loading": "",
        }
        if self.phase != "rating":
            hint = Text(hints.get(self.phase, ""), style="dim")
        elif self.rate_prefix_armed:
            hint = Text("= … now 0–5 rates directly · any other key cancels", style="bold")
        else:
            hint = Text(style="dim")
            offer = self.offered_quality()
            if self.ticks is not None:
                hint.append(f"{toggle_range(self.ticks)} tick · ")
                if offer is None:
                    hint.append("enter confirm ticks · ")
                elif self.ticks.changed or self.armed:
                    hint.append(f"enter record {offer} · ")
                else:
                    hint.append(f"enter accept {offer} · ")
                hint.append("= 0–5 rate · ")
            else:
                hint.append("0–5 rate · ")
                if offer is not None:
                    hint.append(f"enter accept {offer} · ")
            box = self.query_one("#answer", AnswerBox)
            drill = self.card is not None and self.card.is_drill
            keys = ["w edit"] if box.text.strip() and not drill else []
            keys.append("u undo")
            if self.ticks is None:
                if self.card is not None and self.card.demos:
                    keys.append("r demo")
                keys += ["s suspend", "- bury"]
            hint.append(self._fitted(hint.plain, keys))
        self.query_one("#review-keys", Static).update(hint, layout=False)

    def _outside_box_hint(self) -> str:
        """The answering phase's keys once Esc has left the box (its in-box keys, space and
        esc leave box, no longer act so; the letters do): the main ones, then the others
        while they fit the one-line key bar (the footer lists them all)."""
        card = self.card
        drill = card is not None and card.is_drill
        main = ["w write", "ctrl+s check" if drill else "ctrl+s grade", "space reveal"]
        more = ["u undo", "s suspend", "- bury"]
        if card is not None and card.demos:
            more.append("r demo")
        if card is not None and card.prompt_zh:
            more.insert(0, "z 中/EN")
        return self._fitted("", main + more)

    def _fitted(self, head: str, keys: list[str]) -> str:
        """``keys`` then "esc back", as many as fit the key line after ``head`` (the footer
        lists them all): the first ones are the main ones."""
        room = (self.query_one("#review-keys", Static).content_region.width or 78) - len(head)
        shown: list[str] = []
        for key in keys:
            if cell_len(" · ".join([*shown, key, "esc back"])) > room:
                break
            shown.append(key)
        return " · ".join([*shown, "esc back"])

    def watch_focused(self) -> None:
        # the key line follows the focus (in the box or out of it) while answering
        if self._composed and self.phase == "answering":
            self._update_hint()

    # ------------------------------------------------------------ answering

    def action_focus_answer(self) -> None:
        if self.phase == "answering":
            self.query_one("#answer").focus()
        elif self.phase == "rating" and self.card is not None and not self.card.is_drill:
            self._write_again()  # (a drill's answer is on screen now: nothing to fix)

    def _write_again(self) -> None:
        """Back to the answer box with the essay's answer in it, the grade dropped (nothing
        was recorded): fix a slip and grade again."""
        card = self.card
        assert card is not None
        self.result, self.ticks, self.armed = None, None, False
        self.queued, self.rate_prefix_armed = [], False
        box = self.query_one("#answer", AnswerBox)
        box.restate(False, graded=False)
        box.display = True
        for widget_id in ("#grade", "#reference", "#notes", "#intervals"):
            self.query_one(widget_id).display = False
        self._prompt_peeked = False
        self.phase = "answering"
        if self._counts is not None:
            self._status(self._counts)
        self.set_focus(box, scroll_visible=False)
        box.move_cursor(box.document.end)
        self.query_one("#review-body").scroll_home(animate=False, immediate=True)
        self._draw()

    def action_leave_box(self) -> None:
        box = self.query_one("#answer", AnswerBox)
        if self.focused is box:
            self.query_one("#review-body").focus()
        else:
            self.action_back()

    def action_back(self) -> None:
        """Back home; an unrated answer stays as a draft for when the card comes up again.
        Left while the answer is being graded, the draft takes the grade when it comes
        (``_grade_arrived``)."""
        if self._keep_draft() and self.card is not None:
            question = fit(plain(math_as_text(self.card.prompt)), 48)
            self.notify(
                f"Your answer to “{question}” is kept: it is back when the card comes up.",
                timeout=4,
                markup=False,
            )
        self.app.pop_screen()

    def on_key(self, event: events.Key) -> None:
        # ``=`` waits for a digit; any other key cancels it (esc only cancels it).
        if not self.rate_prefix_armed or event.key == "equals_sign" or event.key.isdigit():
            return
        self.rate_prefix_armed = False
        self._update_hint()
        if event.key == "escape":
            event.stop()
            event.prevent_default()

    def action_toggle_zh_letter(self) -> None:
        self.action_toggle_zh()

    def action_toggle_zh(self) -> None:
        if self.card is not None and self.card.prompt_zh:
            self.show_zh = not self.show_zh
            self._render_prompt()
        elif self.card is not None:
            self.notify("This card has no Chinese prompt.", timeout=2)

    @on(AnswerBox.Reveal)
    def action_reveal(self) -> None:
        if self.phase != "answering" or self.card is None:
            return
        self.answer_ms = int((time.monotonic() - self.shown_at) * 1000)
        self.result = None
        if self.card.is_drill:
            self._show_drill_result(None)  # shown, not answered: rate yourself
            return
        self._show_answer_panels(None)

    @on(AnswerBox.Check)
    def action_submit(self) -> None:
        if self.phase != "answering" or self.card is None:
            return
        text = self.query_one("#answer", AnswerBox).text
        self.answer_ms = int((time.monotonic() - self.shown_at) * 1000)
        if self.card.is_drill:
            self.queued, self._early_keys, self._submit_arrived = self._early_keys, [], False
            self._check_drill(text)
            return
        if not text.strip():
            self.action_reveal()
            return
        if self.card.answer is None:
            self.notify("No reference answer for this card: rate yourself 0–5.", timeout=3)
            self._show_answer_panels(None)
            return
        self.phase = "grading"
        self.queued, self._early_keys, self._submit_arrived = self._early_keys, [], False
        # The grading thread starts now, before the "grading" frame is drawn: the encoder's
        # numpy work runs without the GIL, so the frame is drawn while it runs (a Textual
        # thread worker would start only once this handler has returned and the loop turned).
        card = self.card
        width = self._panel_width()
        running = asyncio.get_running_loop().run_in_executor(
            None, self._grade_now, card, text, width
        )
        running.add_done_callback(partial(self._grade_arrived, self._drafts(), card.card_id, text))
        # What does not depend on the grade is laid out now, while the grader runs: the box
        # as it stays (read-only, its answer's height), the panel that is to hold the grade,
        # the reference and notes, the next intervals. Only the panel's text is left for the
        # grade (one layout, of the body, then).
        self.query_one("#answer", AnswerBox).restate(True, graded=True)
        grade = self.query_one("#grade", Static)
        grade.update(Text("Grading your answer…", style="dim"))
        grade.display = True
        self._show_reference_and_notes()
        self.query_one("#intervals", Static).display = True
        self._render_intervals(None)
        # The box lets go at once, so rating keys pressed straight after ctrl+s are not typed
        # into a read-only box: they wait in ``queued`` and act when the grade is shown.
        self.set_focus(self.query_one("#review-body"), scroll_visible=False)
        self._draw()
        self.grade(card, running)

    def _grade_arrived(
        self,
        drafts: dict[int, Draft],
        card_id: int,
        text: str,
        running: asyncio.Future[Graded],
    ) -> None:
        """A grade that comes after the learner left its card (esc while grading, even in the
        same burst as ctrl+s): the kept draft takes it, so the answer comes back graded and
        ticked, as the README says. On the UI thread (the loop runs future callbacks)."""
        if running.cancelled() or running.exception() is not None:
            return
        if self.is_attached and self.card is not None and self.card.card_id == card_id:
            return  # still on screen: ``grade`` shows it
        draft = drafts.get(card_id)
        if draft is not None and draft.text == text and draft.result is None:
            graded = running.result()
            drafts[card_id] = Draft(text, graded.result, graded.ticks, draft.answer_ms)

    def _grade_now(self, card: CardView, text: str, width: int) -> Graded:
        """Grade ``text`` and build the grade panel's text for ``width`` (in a thread of the
        loop's executor: pure Rich, no widget touched)."""
        services = self.services
        if not services.grader_ready:
            self.notify_from_worker(
                "Loading the grading model… your answer is graded when it is ready."
            )
        grader = services.wait_grader()
        result = grader.grade(card.answer, text, card.key_points or None, notes=card.notes)
        ticks = ticks_of(result)
        offer = result.quality if result.sure else None
        return Graded(
            result, ticks, grade_text(card.key_points, result, ticks, False, offer, width), width
        )

    @work(exclusive=True, group="review-grade")
    async def grade(self, card: CardView, running: asyncio.Future[Graded]) -> None:
        """Show the grade of the answer being graded in ``running`` (a worker, so that the
        app knows a grading is under way)."""
        try:
            # shielded: leaving the screen cancels this worker, not the grading, whose
            # grade then goes to the kept answer (``_grade_arrived``)
            graded = await asyncio.shield(running)
        except Exception as exc:
            self._grading_failed(str(exc))
            return
        self._graded(card.card_id, graded)

    # ------------------------------------------------------------ drill cards

    def _check_drill(self, text: str) -> None:
        """Grade a drill reply exactly (never the embedding grader) and show the verdict.

        A reply that reads as no option or verdict ("u", a stray key) is asked again once,
        with the form the drill takes; the same reply sent again is graded wrong."""
        from labdeck.drills.present import grade_reply

        card = self.card
        assert card is not None and card.showing is not None and card.drill is not None
        result = grade_reply(card.showing, card.drill, text)
        if result.verdict == "unread" and text.strip() != self._unread_asked:
            self._unread_asked = text.strip()
            self._ask_again(str(result.detail.get("expected_form", "a short reply")))
            return
        self._show_drill_result(result)

    def _ask_again(self, form: str) -> None:
        """The reply was not read: say what the drill takes; the box keeps it, to edit."""
        self.queued = []  # keys after enter were not ratings: nothing was graded
        text = Text("Not read as an answer: ", style="bold yellow")
        text.append(f"type {form}. ")
        text.append("Enter again records this reply as wrong.", style="dim")
        grade = self.query_one("#grade", Static)
        grade.update(text)
        grade.display = True
        box = self.query_one("#answer", AnswerBox)
        self.set_focus(box, scroll_visible=False)
        self._draw()

    def _show_drill_result(self, result: Any) -> None:
        from labdeck.drills import cloze
        from labdeck.drills.present import explanation

        card = self.card
        assert card is not None and card.drill is not None
        self.drill_result = result
        self.result, self.ticks, self.armed = None, None, False
        box = self.query_one("#answer", AnswerBox)
        box.read_only = True
        box.display = bool(box.text.strip())
        text = Text()
        if result is None:
            from labdeck.drills.present import expected_answer

            text.append("Rate yourself 0–5", style="bold")
            text.append("\n")
            assert card.showing is not None
            expected = expected_answer(card.showing, card.drill)
        else:
            expected = result.expected
        if result is None:
            pass  # revealed: nothing to judge
        elif result.verdict == "exact":
            text.append("✓ right", style="bold green")
        elif result.verdict == "typo":
            text.append("✓ right, with a typo", style="bold green")
        elif result.verdict == "blank":
            text.append("no answer", style="bold yellow")
        elif result.verdict == "unread":  # typed, but not letters / a verdict: wrong, and why
            text.append("✗ not read as an answer", style="bold red")
            text.append(plain(f" (type {result.detail.get('expected_form', 'a short reply')})"))
        else:
            text.append("✗ wrong", style="bold red")
        if result is not None:
            text.append(f"   quality {result.quality} ({QUALITY_WORDS[result.quality]})\n")
        # The answer, the filled-in cloze and the why with their LaTeX readable, as the
        # card's reference shows it (one converter: labdeck.textfmt).
        text.append("Answer: ", style="bold")
        text.append(math_as_text(plain(expected)))
        text.append("\n")
        if card.card_type == "cloze":
            text.append(math_as_text(plain(cloze.back(card.drill.get("text", "")))), style="dim")
            text.append("\n")
        why = explanation(card.card_type, card.drill)
        if why:
            text.append("Why: ", style="bold")
            text.append(math_as_text(plain(why)))
            text.append("\n")
        self.query_one("#grade", Static).update(text)
        self.query_one("#grade", Static).display = True
        self._show_text("#reference", self.prepared.reference if self.prepared else None)
        self.query_one("#notes").display = False
        self.query_one("#intervals", Static).display = True
        self.phase = "rating"
        self._render_intervals(result.quality if result is not None else None)
        self.set_focus(self.query_one("#review-body"), scroll_visible=False)
        self._draw()
        self._replay_queued()

    def _grading_failed(self, message: str) -> None:
        if not self.is_attached:  # the learner left while a worker ran
            return
        self.notify(
            f"Grading failed: {message}. Rate yourself 0–5.", severity="error", markup=False
        )
        self._show_answer_panels(None)

    def _graded(self, card_id: int, graded: Graded) -> None:
        if not self.is_attached or self.card is None or self.card.card_id != card_id:
            return
        self.result = graded.result
        if graded.width != self._panel_width():  # resized meanwhile: wrapped again
            self._show_answer_panels(graded.result)
            return
        self._show_answer_panels(graded.result, graded.ticks, graded.text)

    def _show_answer_panels(
        self, result: GradeResult | None, ticks: Ticks | None = None, text: Text | None = None
    ) -> None:
        """The answer's feedback: the grade panel (``text`` when it is built already, for
        ``ticks`` as the grader left them), the reference and notes, the next intervals."""
        card = self.card
        assert card is not None
        box = self.query_one("#answer", AnswerBox)
        box.restate(True, graded=result is not None)
        box.display = bool(box.text.strip())
        self.ticks = ticks if ticks is not None else ticks_of(result)
        self.armed = False
        if text is None:
            self._render_grade()
        else:
            self.query_one("#grade", Static).update(text)
            self._render_intervals(self.offered_quality())
        self.query_one("#grade", Static).display = True
        self._show_reference_and_notes()
        self.query_one("#intervals", Static).display = True
        self.phase = "rating"
        self.set_focus(self.query_one("#review-body"), scroll_visible=False)
        self._draw(self._open_checklist if result is not None else None)
        if card.demos:  # `r` is a likely next key: a demo child made ready once this is drawn
            self.call_after_refresh(
                self.run_worker, self._prewarm_demo, thread=True, group="review-demo"
            )
        self._replay_queued()

    def _replay_queued(self) -> None:
        """The rating keys pressed while the answer was being graded or checked, in order."""
        queued, self.queued = self.queued, []
        for action, value in queued:
            if self.phase != "rating":
                break
            if action == "digit":
                self.action_digit(value)
            elif action == "prefix":
                self.action_rate_prefix()
            else:
                self.action_accept()

    def _show_reference_and_notes(self) -> None:
        prepared = self.prepared
        self._show_text("#reference", prepared.reference if prepared else None)
        self._show_text("#notes", prepared.notes if prepared else None)

    def _show_text(self, selector: str, rendered: RenderedText | None) -> None:
        """A prepared text in its panel (hidden when there is none)."""
        panel = self.query_one(selector, CardText)
        panel.display = rendered is not None
        if rendered is not None and panel.rendered is not rendered:  # (shown while grading)
            panel.show(rendered)

    def _prewarm_demo(self) -> None:
        """Have a warm demo child ready for ``r`` (issue 19.6; in a worker thread: the Demos
        screen's module is imported the first time)."""
        from labdeck.tui.screens.demos import prewarm_demo

        prewarm_demo(self.services.settings.demo_threads)

    def _open_checklist(self) -> None:
        """Scroll the grade panel into view once the panels below it are laid out: all of it
        when it fits, else its top at the top of the screen (the rest a scroll away)."""
        grade = self.query_one("#grade")
        body = self.query_one("#review-body")
        if grade.display and self.phase == "rating":
            tall = grade.outer_size.height > body.scrollable_content_region.height
            body.scroll_to_widget(grade, animate=False, top=tall, immediate=True)

    def _render_grade(self) -> None:
        """The grade panel (score, sure/unsure, what enter does, the checklist) and the
        interval line, from ``result``, ``ticks`` and ``armed``."""
        card = self.card
        assert card is not None
        offer = self.offered_quality()
        text = grade_text(
            card.key_points, self.result, self.ticks, self.armed, offer, self._panel_width()
        )
        self.query_one("#grade", Static).update(text)
        self._render_intervals(offer)

    def _panel_width(self) -> int:
        """The grade panel's text width: the body's, less the panel's border and padding
        (the scroll bar's room is kept outside, shown or not)."""
        width = self.query_one("#review-body").scrollable_content_region.width
        return width - PANEL_GUTTER if width else self.size.width - 2 - 2 - PANEL_GUTTER

    def _render_intervals(self, offer: int | None) -> None:
        card = self.card
        assert card is not None
        width = self.query_one("#intervals").content_region.width or self.size.width - 2
        self.query_one("#intervals", Static).update(
            intervals_text(self.previews, offer, card.kind == "redrill", width)
        )
        self._update_hint()

    def on_resize(self) -> None:
        if self.phase == "rating" and self.card is not None:
            if self.card.is_drill:
                self._render_intervals(self.offered_quality())
            else:
                self._render_grade()

    # ------------------------------------------------------------ rating

    def offered_quality(self) -> int | None:
        """The quality ``enter`` records now: what the ticks give once the learner has
        touched them (or confirmed them), moving a sure suggestion (``Ticks.quality_from``),
        else the grader's suggestion when it is sure."""
        if self.card is not None and self.card.is_drill:
            result = self.drill_result
            return result.quality if result is not None else None
        if self.ticks is not None and (self.ticks.changed or self.armed):
            graded = self.result
            return self.ticks.quality_from(
                graded.quality if graded is not None and graded.sure else None
            )
        if self.result is not None and self.result.sure:
            return self.result.quality
        return None

    RATING_KEYS = {"enter": ("accept", 0), "equals_sign": ("prefix", 0)}

    def route_key(self, event: events.Key) -> bool:
        """Called by the app as each key arrives, before the bindings and the focused widget
        see it. ctrl+s on a typed essay answer starts grading only once the keys typed before
        it are in the box, and the keys typed after it in the same burst (``=`` ``4``, enter)
        would reach the box first and be typed into the answer: they are taken here and act
        once the grade is shown, as keys pressed while grading do. The same for the enter (or
        ctrl+s) that checks a drill's reply: a second enter in its burst accepts (it reached
        the box and asked for the check again, and was lost). True: taken."""
        if self.phase != "answering" or self.card is None:
            self._submit_arrived = False
            return False
        if self.card.is_drill:  # a drill's reply is checked by enter in its box, or ctrl+s
            checks = event.key == "ctrl+s" or (event.key == "enter" and self._typing())
            if checks and not self._submit_arrived:
                self._submit_arrived = True
                return False
        elif event.key == "ctrl+s":
            self._submit_arrived = self.card.answer is not None
            return False
        if not self._submit_arrived:
            return False
        if event.key in self.RATING_KEYS:
            self._early_keys.append(self.RATING_KEYS[event.key])
        elif event.key.isdigit():
            self._early_keys.append(("digit", int(event.key)))
        elif not event.is_printable:
            return False  # esc, ctrl+q, the arrows: as ever
        event.stop()
        return True  # (a character after ctrl+s: dropped, it is not for the graded answer)

    def action_accept(self) -> None:
        if self.phase == "grading":
            self.queued.append(("accept", 0))
            return
        if self.phase != "rating":
            return
        offer = self.offered_quality()
        if offer is not None:
            self.action_rate(offer)
        elif self.ticks is not None:
            self.armed = True  # unsure: the first enter puts the grader's ticks on offer
            self._render_grade()
        else:
            self.notify("Pick a quality 0–5.", timeout=2)

    def action_digit(self, digit: int) -> None:
        if self.phase == "grading":
            self.queued.append(("digit", digit))
            return
        if self.phase != "rating":
            return
        if self.take_prefix() or self.ticks is None:
            self._update_hint()
            if digit <= 5:
                self.action_rate(digit)
            else:
                self.notify("Qualities run from 0 to 5.", timeout=2)
            return
        if digit == 0 or not self.ticks.toggle(digit):
            self.notify(
                f"{tick_keys_note(self.ticks)}; = then 0–5 rates directly.",
                timeout=3,
            )
            return
        self._render_grade()

    def action_rate_prefix(self) -> None:
        if self.phase == "grading":
            self.queued.append(("prefix", 0))
            return
        if self.phase == "rating":
            self.rate_prefix_armed = True
            self._update_hint()

    def action_rate(self, quality: int) -> None:
        if self.phase != "rating" or self.card is None:
            return
        self.phase = "saving"
        box = self.query_one("#answer", AnswerBox)
        result = self.drill_result if self.card.is_drill else self.result
        self.save_answer(
            self.card,
            quality,
            box.text,
            result,
            self.ticks,
            self.answer_ms,
            self.previews.get(quality),
        )

    @work(thread=True, exclusive=True, group="review-save")
    def save_answer(
        self,
        card: CardView,
        quality: int,
        text: str,
        result: GradeResult | DrillResult | None,
        ticks: Ticks | None,
        ms: int | None,
        previewed: Transition | None = None,
    ) -> None:
        from labdeck.drills.grade import DrillResult

        scheduler = self.services.scheduler()
        score: float | None
        confidence: float | None
        sure: bool | None
        if isinstance(result, DrillResult):  # exact grading: sure by construction
            score, confidence, sure = (1.0 if result.correct else 0.0), 1.0, True
        elif result is not None:
            score, confidence, sure = result.score, result.confidence, result.sure
        else:
            score = confidence = sure = None
        try:
            outcome = scheduler.answer(
                card.card_id,
                quality,
                answer=text or None,
                score=score,
                suggested=result.quality if result is not None else None,
                duration_ms=ms,
                confidence=confidence,
                sure=sure,
                checklist=ticks.stored() if ticks is not None else None,
                previewed=previewed,
            )
        except Stale:  # answered elsewhere, or a new study day: show what rating does now
            try:
                previews = scheduler.preview(card.card_id)
            except Exception as exc:
                self.to_ui(self._save_failed, str(exc))
                return
            self.to_ui(self._previews_changed, card.card_id, previews)
            return
        except Exception as exc:
            self.to_ui(self._save_failed, str(exc))
            return
        # a draft kept of this answer (for an undo that never came, "Nothing to undo") is
        # spent: the card's next showing today, a re-drill, starts empty (QA: it opened with
        # the old answer, "Your graded answer is back")
        self._drafts().pop(card.card_id, None)
        if getattr(outcome, "became_leech", False):
            self.notify_from_worker(
                f"{card.key} is a leech (lapsed too often) and has been suspended. "
                "Rewrite or split it, then unsuspend it in Browse.",
                severity="warning",
                timeout=8,
                markup=False,
            )
        self._load(scheduler)

    def _previews_changed(self, card_id: int, previews: dict[int, Transition]) -> None:
        if not self.is_attached or self.card is None or self.card.card_id != card_id:
            return
        self.previews = previews
        self.phase = "rating"
        self._render_intervals(self.offered_quality())
        self.notify(
            "This card changed since its intervals were shown (answered elsewhere, or a new "
            "study day): they are shown again; rate it again.",
            severity="warning",
            timeout=6,
        )

    def _save_failed(self, message: str) -> None:
        if not self.is_attached:  # the learner left while a worker ran
            return
        self.phase = "rating"
        self.notify(f"Could not save the answer: {message}", severity="error", markup=False)

    # ------------------------------------------------------------ card actions

    def _typing(self) -> bool:
        # The screen's focus, set at once by set_focus (the box's has_focus follows only when
        # its Focus event is handled: the footer would change a frame later).
        return self.focused is self.query_one("#answer", AnswerBox)

    def action_undo(self) -> None:
        if self.phase in ("grading", "saving"):
            return
        self._keep_draft()  # the answer on screen comes back after the undone card
        self.undo_last()

    @work(thread=True, exclusive=True, group="review-save")
    def undo_last(self) -> None:
        scheduler = self.services.scheduler()
        outcome = scheduler.undo()
        if outcome is None:
            self.notify_from_worker("Nothing to undo.", timeout=2)
            return
        self.notify_from_worker(outcome.summary, timeout=3, markup=False)
        if outcome.op == "answer" and outcome.card_id not in self._drafts():
            # the undone answer comes back in the box with the card, to grade or rate again
            answer, answer_ms = scheduler.logged_answer(outcome.log_id)
            if answer and answer.strip():
                self._drafts()[outcome.card_id] = Draft(answer, None, None, answer_ms)
        self._load(scheduler)

    def action_suspend(self) -> None:
        if self.card is not None and self.phase in ("answering", "rating"):
            # an undo brings the card back with its answer (QA: it was lost)
            self._card_op("suspend", self.card, self._keep_draft())

    def action_bury(self) -> None:
        if self.card is not None and self.phase in ("answering", "rating"):
            self._card_op("bury", self.card, self._keep_draft())

    @work(thread=True, group="review-save")
    def _card_op(self, op: str, card: CardView, kept: bool) -> None:
        """Suspend or bury ``card``; ``kept``: its unrated answer was kept for an undo."""
        scheduler = self.services.scheduler()
        if op == "suspend":
            scheduler.suspend(card.card_id, True)
            message = f"Suspended {card.key} (unsuspend it in Browse)"
        else:
            scheduler.bury(card.card_id)
            message = f"Buried {card.key} until tomorrow"
        message += ": not rated; esc, then u brings it back with your answer." if kept else "."
        self.notify_from_worker(message, timeout=4)
        self._load(scheduler)

    def action_run_demo(self) -> None:
        if self.card is None:
            return
        if not self.card.demos:
            self.notify("This card has no linked demo.", timeout=2)
            return
        self.app.action_demos(self.card.demos[0], self.card.key)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The footer's keys, with ctrl+s named for the card: a drill's reply is checked
        exactly ("Check answer"), an essay graded (one binding, so one meaning per key)."""
        active = super().active_bindings
        shown = active.get("ctrl+s")
        if shown is not None and self.card is not None and self.card.is_drill:
            checked = replace(shown.binding, description="Check answer")
            active["ctrl+s"] = shown._replace(binding=checked)
        return active

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Single-letter keys belong to the answer box while the learner is typing.
        if action in ("rate_prefix", "accept") and self.phase not in (
            "grading",
            "rating",
            "saving",
        ):
            return False  # not in the footer either (kept while saving: no footer change)
        if action in ("submit", "reveal") and self.phase not in ("answering", "saving"):
            return False  # nothing to grade or reveal once the answer is in
        if (
            action == "accept"
            and self.phase == "rating"
            and self.ticks is None
            and self.offered_quality() is None
        ):
            return False  # revealed, rated by hand: nothing to accept (the footer said so)
        # keys for what this card has: no "r Demo" without a demo, no "中/EN" without a
        # Chinese prompt (at 80 columns the footer had no room for them and cut its last keys)
        card = self.card
        card_actions = ("suspend", "bury", "run_demo", "toggle_zh", "toggle_zh_letter")
        if card is None and action in card_actions:
            return False  # the queue is empty: no card to act on (undo still works)
        if card is not None and action == "run_demo" and not card.demos:
            return False
        if card is not None and action in ("toggle_zh", "toggle_zh_letter") and not card.prompt_zh:
            return False
        return not (
            action
            in (
                "undo",
                "suspend",
                "bury",
                "run_demo",
                "toggle_zh_letter",
                "reveal",
                "accept",
                "digit",
                "rate_prefix",
                "back",
            )
            and self._typing()
        )


def intervals_text(
    previews: dict[int, Transition], offer: int | None, redrill: bool, width: int
) -> Text:
    """``Next: 0–3 → again today, then 1d  4–5 → 1d`` with the entry of the quality on
    offer lit. Consecutive qualities that do the same thing are one entry (four "today, 1d"
    in a row read as noise, and took a second line at 80 columns). An entry is never split
    across lines (they wrap as wholes to ``width``, under the first)."""
    head = "Next: "
    groups: list[tuple[list[int], str]] = []
    for q in sorted(previews):
        label = preview_label(previews[q])
        if groups and groups[-1][1] == label and groups[-1][0][-1] == q - 1:
            groups[-1][0].append(q)
        else:
            groups.append(([q], label))
    entries = [
        Text(
            f"{qs[0]}–{qs[-1]} → {label}" if len(qs) > 1 else f"{qs[0]} → {label}",
            style="reverse" if offer in qs else "",
        )
        for qs, label in groups
    ]
    if redrill:
        entries.append(Text("(re-drill: schedule unchanged)", style="dim"))
    width = width if width > 20 else 76
    text = Text(head, style="bold")
    used = len(head)
    for n, entry in enumerate(entries):
        gap = 2 if n else 0
        if n and used + gap + entry.cell_len > width:
            text.append("\n" + " " * len(head))
            used, gap = len(head), 0
        text.append(" " * gap)
        text.append_text(entry)
        used += gap + entry.cell_len
    return text
