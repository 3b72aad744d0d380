"""Review: prompt, typed answer, grade panel with key points, SM-2 quality 0–5, undo.

Flow: ``answering`` (type, then ctrl+s to grade, or space on an empty box to reveal) ->
``rating`` (0–5 picks, enter accepts the suggestion) -> the answer is committed in a worker,
and only then does the next card appear.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, LoadingIndicator, Markdown, Static, TextArea

from labdeck.textfmt import readable_math
from labdeck.tui.bindings import RATE_BINDINGS
from labdeck.tui.screens.home import Scope, counts_text
from labdeck.tui.widgets.literal import CardMarkdown
from labdeck.tui.widgets.scorebar import score_bar

QUALITY_WORDS = {
    0: "blackout",
    1: "wrong, familiar",
    2: "wrong, easy on sight",
    3: "hard",
    4: "good",
    5: "perfect",
}


class AnswerBox(TextArea):
    """The answer editor. Space as the very first keystroke reveals the answer instead."""

    class Reveal(Message):
        pass

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "space" and not self.text.strip() and not self.read_only:
            event.stop()
            event.prevent_default()
            self.post_message(self.Reveal())
            return
        await super()._on_key(event)


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


class ReviewScreen(Screen):
    BINDINGS = [
        # Not priority bindings: the key travels through the answer box first, so every
        # character typed before it (a fast paste, tmux send-keys) is in the box when it lands.
        Binding("ctrl+s", "submit", "Grade answer"),
        Binding("f5", "submit", "Grade", show=False),
        Binding("escape", "leave_box", "Leave box / back"),
        Binding("space", "reveal", "Reveal"),
        Binding("enter", "accept", "Accept"),
        *RATE_BINDINGS,
        Binding("u", "undo", "Undo"),
        Binding("s", "suspend", "Suspend"),
        Binding("b", "bury", "Bury"),
        Binding("r", "run_demo", "Demo"),
        Binding("z", "toggle_zh", "中/EN"),
        Binding("a", "focus_answer", "Answer", show=False),
        Binding("q", "app.pop_screen", "Home", show=False),
    ]

    phase: reactive[str] = reactive("loading")

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__()
        self.scope = scope or Scope()
        self.card: CardView | None = None
        self.result = None  # GradeResult of the current answer, if graded
        self.shown_at = time.monotonic()
        self.answer_ms: int | None = None
        self.show_zh = False
        self.intervals: dict[int, int] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="review-status")
        with VerticalScroll(id="review-body"):
            yield CardMarkdown(id="prompt")
            yield AnswerBox(id="answer", soft_wrap=True, tab_behavior="focus")
            yield LoadingIndicator(id="grading")
            yield Static(id="grade", classes="panel")
            yield CardMarkdown(id="reference")
            yield CardMarkdown(id="notes")
            yield Static(id="intervals")
        yield Static(id="review-keys")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Review"
        self.sub_title = self.scope.label()
        self.query_one("#grading").display = False
        self.app.ensure_grader_loading()
        self.load_next()

    # ------------------------------------------------------------ loading cards

    @work(thread=True, exclusive=True, group="review-load")
    def load_next(self) -> None:
        scheduler = self.app.services.scheduler()
        entry = scheduler.next_card(self.scope.deck, self.scope.chapter)
        counts = scheduler.scope_counts(self.scope.deck, self.scope.chapter)
        if entry is None:
            forecast = scheduler.forecast(days=7)
            self.app.call_from_thread(self._show_empty, forecast, counts)
            return
        card = scheduler.card(entry.card_id)
        intervals = scheduler.intervals_preview(entry.card_id)
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
        )
        self.app.call_from_thread(self._show_card, view, intervals, counts)

    def _status(self, counts) -> None:
        text = Text.assemble(counts_text(counts.new, counts.redrill, counts.due), "   ")
        if self.card is not None:
            kind = {"new": "new card", "review": "review", "redrill": "re-drill"}[self.card.kind]
            text.append(f"{self.card.chapter} · {kind} · {self.card.key}", style="dim")
        self.query_one("#review-status", Static).update(text)

    def _show_card(self, view: CardView, intervals: dict[int, int], counts) -> None:
        self.card, self.result, self.intervals = view, None, intervals
        self.show_zh = False
        self._render_prompt()
        box = self.query_one("#answer", AnswerBox)
        box.read_only = False
        box.text = ""
        box.display = True
        for widget_id in ("#grade", "#reference", "#notes", "#intervals"):
            self.query_one(widget_id).display = False
        self.query_one("#grading").display = False
        self.phase = "answering"
        self._status(counts)
        self.shown_at = time.monotonic()
        self.answer_ms = None
        box.focus()
        self.query_one("#review-body").scroll_home(animate=False)

    def _show_empty(self, forecast, counts) -> None:
        self.card = None
        self.phase = "empty"
        lines = ["# Nothing left for today", "", "Tomorrow and the days after:", ""]
        for day, n in forecast:
            lines.append(f"- {day:%a %d %b}: {n} card{'s' if n != 1 else ''}")
        self.query_one("#prompt", Markdown).update("\n".join(lines))
        for widget_id in ("#answer", "#grade", "#reference", "#notes", "#intervals"):
            self.query_one(widget_id).display = False
        self._status(counts)
        self.query_one("#review-body").focus()

    def _render_prompt(self) -> None:
        card = self.card
        if card is None:
            return
        prompt = card.prompt_zh if self.show_zh and card.prompt_zh else card.prompt
        self.query_one("#prompt", Markdown).update(readable_math(prompt))

    def watch_phase(self, phase: str) -> None:
        hints = {
            "answering": "ctrl+s grade · space (empty box) reveal · esc leave box · z 中/EN",
            "grading": "grading…",
            "rating": "0–5 rate · enter accept suggestion · u undo · r demo · s suspend · b bury",
            "saving": "saving…",
            "empty": "q home · u undo",
            "loading": "",
        }
        if self.is_mounted:
            self.query_one("#review-keys", Static).update(Text(hints.get(phase, ""), style="dim"))

    # ------------------------------------------------------------ answering

    def action_focus_answer(self) -> None:
        if self.phase == "answering":
            self.query_one("#answer").focus()

    def action_leave_box(self) -> None:
        box = self.query_one("#answer", AnswerBox)
        if box.has_focus:
            self.query_one("#review-body").focus()
        else:
            self.app.pop_screen()

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
        self._show_answer_panels(None)

    def action_submit(self) -> None:
        if self.phase != "answering" or self.card is None:
            return
        text = self.query_one("#answer", AnswerBox).text
        self.answer_ms = int((time.monotonic() - self.shown_at) * 1000)
        if not text.strip():
            self.action_reveal()
            return
        if self.card.answer is None:
            self.notify("No reference answer for this card: rate yourself 0–5.", timeout=3)
            self._show_answer_panels(None)
            return
        self.phase = "grading"
        self.query_one("#answer", AnswerBox).read_only = True
        self.query_one("#grading").display = True
        self.grade(self.card, text)

    @work(thread=True, exclusive=True, group="review-grade")
    def grade(self, card: CardView, text: str) -> None:
        services = self.app.services
        if not services.grader_ready:
            self.app.call_from_thread(
                self.notify, "Loading the grading model… your answer is graded when it is ready."
            )
        try:
            grader = services.wait_grader()
            result = grader.grade(card.answer, text, card.key_points or None, notes=card.notes)
        except Exception as exc:
            self.app.call_from_thread(self._grading_failed, str(exc))
            return
        self.app.call_from_thread(self._graded, card.card_id, result)

    def _grading_failed(self, message: str) -> None:
        self.notify(f"Grading failed: {message}. Rate yourself 0–5.", severity="error")
        self._show_answer_panels(None)

    def _graded(self, card_id: int, result) -> None:
        if self.card is None or self.card.card_id != card_id:
            return
        self.result = result
        self._show_answer_panels(result)

    def _show_answer_panels(self, result) -> None:
        card = self.card
        assert card is not None
        self.query_one("#grading").display = False
        box = self.query_one("#answer", AnswerBox)
        box.read_only = True
        box.display = bool(box.text.strip())
        grade = self.query_one("#grade", Static)
        text = Text()
        if result is not None:
            text.append("Score ", style="bold")
            text.append_text(score_bar(result.score))
            text.append(
                f"   suggested quality {result.quality} ({QUALITY_WORDS[result.quality]})\n",
                style="bold",
            )
            for point in result.key_points:
                mark, style = ("✓", "green") if point.covered else ("✗", "red")
                text.append(f" {mark} ", style=f"bold {style}")
                text.append(point.text)
                if point.span and (point.covered or point.contradicted):
                    span = point.span if len(point.span) <= 90 else point.span[:87] + "…"
                    if point.contradicted:
                        text.append(
                            f"\n     ≠ your answer says the opposite: “{span}”", style="red"
                        )
                    else:
                        text.append(f"\n     ↳ “{span}”", style="dim")
                text.append("\n")
        else:
            text.append("Rate yourself: ", style="bold")
            text.append("0 blackout · 1 wrong · 2 almost · 3 hard · 4 good · 5 perfect\n")
            if card.key_points:
                text.append("Key points:\n", style="bold")
                for point in card.key_points:
                    text.append(f" • {point}\n")
        grade.update(text)
        grade.display = True
        reference = self.query_one("#reference", Markdown)
        if card.answer:
            reference.update("### Reference\n\n" + readable_math(card.answer))
        else:
            reference.update("### Reference\n\n*No reference answer yet (self-graded card).*")
        reference.display = True
        notes = self.query_one("#notes", Markdown)
        notes.display = bool(card.notes)
        if card.notes:
            notes.update("### My notes\n\n" + readable_math(card.notes))
        intervals = self.query_one("#intervals", Static)
        line = Text("Next interval: ", style="bold")
        for quality in range(6):
            days = self.intervals.get(quality)
            style = "reverse" if result is not None and quality == result.quality else ""
            label = f"{quality} → {days}d" if days is not None else f"{quality}"
            line.append(label, style=style)
            line.append("  ")
        if card.kind == "redrill":
            line.append("(re-drill: schedule unchanged)", style="dim")
        intervals.update(line)
        intervals.display = True
        self.phase = "rating"
        self.query_one("#review-body").focus()

    # ------------------------------------------------------------ rating

    def action_accept(self) -> None:
        if self.phase == "rating" and self.result is not None:
            self.action_rate(self.result.quality)
        elif self.phase == "rating":
            self.notify("Pick a quality 0–5.", timeout=2)

    def action_rate(self, quality: int) -> None:
        if self.phase != "rating" or self.card is None:
            return
        self.phase = "saving"
        box = self.query_one("#answer", AnswerBox)
        self.save_answer(self.card, quality, box.text, self.result, self.answer_ms)

    @work(thread=True, exclusive=True, group="review-save")
    def save_answer(self, card: CardView, quality: int, text: str, result, ms) -> None:
        scheduler = self.app.services.scheduler()
        try:
            outcome = scheduler.answer(
                card.card_id,
                quality,
                answer=text or None,
                score=result.score if result is not None else None,
                suggested=result.quality if result is not None else None,
                duration_ms=ms,
            )
        except Exception as exc:
            self.app.call_from_thread(self._save_failed, str(exc))
            return
        if getattr(outcome, "became_leech", False):
            self.app.call_from_thread(
                self.notify,
                f"{card.key} is a leech (lapsed too often) and has been suspended. "
                "Rewrite or split it, then unsuspend it in Browse.",
                severity="warning",
                timeout=8,
            )
        self.load_next()

    def _save_failed(self, message: str) -> None:
        self.phase = "rating"
        self.notify(f"Could not save the answer: {message}", severity="error")

    # ------------------------------------------------------------ card actions

    def _typing(self) -> bool:
        return self.query_one("#answer", AnswerBox).has_focus

    def action_undo(self) -> None:
        if self.phase in ("grading", "saving"):
            return
        self.undo_last()

    @work(thread=True, exclusive=True, group="review-save")
    def undo_last(self) -> None:
        outcome = self.app.services.scheduler().undo()
        if outcome is None:
            self.app.call_from_thread(self.notify, "Nothing to undo.", timeout=2)
            return
        self.app.call_from_thread(self.notify, f"Undid the answer to {outcome.key}.", timeout=3)
        self.load_next()

    def action_suspend(self) -> None:
        if self.card is not None and self.phase in ("answering", "rating"):
            self._card_op("suspend", self.card)

    def action_bury(self) -> None:
        if self.card is not None and self.phase in ("answering", "rating"):
            self._card_op("bury", self.card)

    @work(thread=True, group="review-save")
    def _card_op(self, op: str, card: CardView) -> None:
        scheduler = self.app.services.scheduler()
        if op == "suspend":
            scheduler.suspend(card.card_id, True)
            message = f"Suspended {card.key} (unsuspend it in Browse)."
        else:
            scheduler.bury(card.card_id)
            message = f"Buried {card.key} until tomorrow."
        self.app.call_from_thread(self.notify, message, timeout=3)
        self.load_next()

    def action_run_demo(self) -> None:
        if self.card is None:
            return
        if not self.card.demos:
            self.notify("This card has no linked demo.", timeout=2)
            return
        self.app.action_demos(self.card.demos[0], self.card.key)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # Single-letter keys belong to the answer box while the learner is typing.
        return not (
            action
            in ("undo", "suspend", "bury", "run_demo", "toggle_zh", "reveal", "accept", "rate")
            and self._typing()
        )
