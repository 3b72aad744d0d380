"""Compose a mock exam: deck and chapters, number of questions, time, seed, weak-card bias,
self-graded and drill cards."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    Header,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
)

from labdeck.drills import DRILL_KINDS, ESSAY, KINDS
from labdeck.exam import ExamError
from labdeck.exam.compose import ExamSpec
from labdeck.store.queries import DeckInfo
from labdeck.tui.literal import literal, plain
from labdeck.tui.screens.exam.common import ALL_DECKS, ExamContext, ExamScreenBase
from labdeck.tui.widgets.bottomline import BottomLine
from labdeck.tui.widgets.checkbox import MarkedCheckbox, MarkedSelectionList
from labdeck.tui.widgets.editors import TextField
from labdeck.tui.widgets.steadyfooter import SteadyFooter


class ExamSetupScreen(ExamScreenBase):
    """Choose deck and chapters, number of questions, time, seed, weak-card bias; start."""

    DEFAULT_CSS = """
    ExamSetupScreen #setup-main { height: 1fr; padding: 0 1; }
    ExamSetupScreen #setup-scope { width: 3fr; min-width: 36; }
    ExamSetupScreen #setup-form { width: 2fr; min-width: 34; padding: 0 0 0 2; }
    ExamSetupScreen #setup-chapters { height: 1fr; border: round $primary 40%; }
    ExamSetupScreen Input { width: 100%; }
    ExamSetupScreen .setup-label { color: $text-muted; margin-top: 1; width: 100%; }
    ExamSetupScreen #setup-info { margin-top: 1; height: auto; }
    ExamSetupScreen #setup-keys { padding: 0 1; color: $text-muted; }
    ExamSetupScreen #setup-start { margin-top: 1; }
    /* a short terminal (24 rows): one-line fields, no gaps, so Start stays on screen */
    ExamSetupScreen.-short #setup-form .setup-label { margin-top: 0; }
    ExamSetupScreen.-short #setup-form Checkbox { border: none; padding: 0; height: 1; }
    ExamSetupScreen.-short #setup-form Checkbox:focus { background: $boost; }
    ExamSetupScreen.-short #setup-info { margin-top: 0; }
    ExamSetupScreen.-short #setup-scope .setup-label { margin-top: 0; }
    """
    BINDINGS = [
        Binding("ctrl+s", "start", "Start exam", priority=True),
        Binding("ctrl+r", "resume", "Resume unfinished", priority=True),
        Binding("ctrl+o", "history", "History", priority=True),
        # h, as on the report and the demos, where no field takes the letter
        Binding("h", "history", "History", show=False),
        # not a priority: in a number field ctrl+a is the field's own (cursor to the start)
        Binding("ctrl+a", "select_all", "All chapters"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, ctx: ExamContext) -> None:
        super().__init__(ctx)
        self.decks: list[DeckInfo] = []
        self.unfinished: int | None = None
        self._chosen: set[str] = set()  # the chapters the last exam was composed of
        # The form is filled once the last exam's settings are read (a worker): until then its
        # fields are blank and disabled, never the defaults that the remembered values then
        # replace (QA: "10" and "120" showed for ~1.5 s, then the learner's own 5 and 60).
        self.loaded = False
        self._start_asked = False  # ctrl+s before that: start once the form is filled
        self._kinds_with_drills: list[str] = list(KINDS)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="setup-main"):
            with Vertical(id="setup-scope"):
                yield Label("Deck", classes="setup-label")
                yield Select(
                    [("All decks", ALL_DECKS)],
                    value=ALL_DECKS,
                    id="setup-deck",
                    allow_blank=False,
                    prompt="Deck",
                )
                yield Label("Chapters (space toggles · ctrl+a all)", classes="setup-label")
                yield MarkedSelectionList(id="setup-chapters")
            with VerticalScroll(id="setup-form", can_focus=False):  # tab goes to its fields
                yield Label("Questions", classes="setup-label")
                yield self._field("setup-n")
                yield Label("Seconds per question, pooled\n(0 = untimed)", classes="setup-label")
                yield self._field("setup-per")
                yield Label("Or total minutes (overrides the above)", classes="setup-label")
                yield self._field("setup-total")
                yield Label("Seed (blank = random)", classes="setup-label")
                yield self._field("setup-seed")
                yield MarkedCheckbox("Favour weak cards", id="setup-weak", disabled=True)
                yield MarkedCheckbox(
                    "Include self-graded cards",
                    id="setup-self",
                    tooltip="Cards without a reference answer: you grade them yourself",
                    disabled=True,
                )
                yield MarkedCheckbox(
                    "Include drill cards",
                    id="setup-drills",
                    tooltip="Cloze, multiple-choice and true/false cards, graded exactly",
                    disabled=True,
                )
                yield Button(
                    "Start (ctrl+s)",
                    id="setup-start",
                    variant="primary",
                    compact=True,
                    disabled=True,
                )
                yield Static(id="setup-info")
        yield BottomLine(
            Text("ctrl+s start · ctrl+r resume unfinished · ctrl+o history · esc back"),
            id="setup-keys",
        )
        yield SteadyFooter()

    PLACEHOLDERS = {"setup-total": "off", "setup-seed": "random"}

    def _field(self, widget_id: str) -> Input:
        """A number field, blank and disabled until the form is filled (``_fill_form``)."""
        return TextField(
            "", id=widget_id, type="integer", placeholder="…", compact=True, disabled=True
        )

    def on_mount(self) -> None:
        self.title = "Mock exam"
        self.sub_title = "compose"
        self._info("Reading your decks and your last exam's settings…")
        self.load_decks()

    @work(thread=True, exclusive=True, group="exam-setup")
    def load_decks(self) -> None:
        from labdeck.exam.compose import last_spec
        from labdeck.exam.session import sitting_exams
        from labdeck.store.queries import list_decks

        decks = list_decks(self.ctx.store)
        unfinished = sitting_exams(self.ctx.store)
        last = last_spec(self.ctx.store)
        self.to_ui(self._show_decks, decks, unfinished[0] if unfinished else None, last)

    def _show_decks(
        self, decks: list[DeckInfo], unfinished: int | None, last: ExamSpec | None = None
    ) -> None:
        """The decks, and the form as the last exam was composed (the learner's usual)."""
        self.decks, self.unfinished = decks, unfinished
        select = self.query_one("#setup-deck", Select)
        options: list[tuple[str | Text, str]] = [
            (literal(f"{d.name} ({d.cards})"), d.key) for d in decks
        ]
        options.append(("All decks", ALL_DECKS))
        select.set_options(options)
        deck = decks[0].key if decks else ALL_DECKS
        keys = {d.key for d in decks}
        if last is not None and (len(last.decks) != 1 or last.decks[0] in keys):
            deck = last.decks[0] if len(last.decks) == 1 else ALL_DECKS
            self._chosen = set(last.chapters)
        else:
            last = ExamSpec()  # the defaults: no exam yet (or its deck is gone)
        self._fill_form(last)
        select.value = deck
        self._fill_chapters(deck)
        self._info()
        self.query_one("#setup-chapters").focus()
        if self._start_asked:
            self._start_asked = False
            self.action_start()

    def _fill_form(self, spec: ExamSpec) -> None:
        def number(value: int | None) -> str:
            return "" if value is None else str(value)

        self.query_one("#setup-n", Input).value = str(spec.n)
        self.query_one("#setup-per", Input).value = number(spec.time_per_question_s)
        total = spec.total_time_s
        self.query_one("#setup-total", Input).value = "" if total is None else str(total // 60)
        self.query_one("#setup-weak", Checkbox).value = spec.favour_weak
        self.query_one("#setup-self", Checkbox).value = spec.include_self_graded
        drills = [kind for kind in spec.kinds if kind in DRILL_KINDS]
        self.query_one("#setup-drills", Checkbox).value = bool(drills)
        # ticked, the box draws the kinds the last exam drew (``exam new --types`` may have
        # picked some), else every kind
        self._kinds_with_drills = list(spec.kinds) if drills else list(KINDS)
        for widget_id in ("setup-n", "setup-per", "setup-total", "setup-seed"):
            field = self.query_one(f"#{widget_id}", Input)
            field.placeholder = self.PLACEHOLDERS.get(widget_id, "")
            field.disabled = False
        for widget_id in ("setup-weak", "setup-self", "setup-drills", "setup-start"):
            self.query_one(f"#{widget_id}").disabled = False
        self.loaded = True

    def _fill_chapters(self, deck_key: object) -> None:
        """The deck's chapters, ticked as the last exam had them (all on another deck)."""
        chapters = self.query_one("#setup-chapters", SelectionList)
        chapters.clear_options()
        shown = [
            ch for deck in self.decks if deck_key in (ALL_DECKS, deck.key) for ch in deck.chapters
        ]
        chosen = self._chosen if self._chosen & {ch.code for ch in shown} else None
        for ch in shown:
            label = Text.assemble(
                (f"{plain(ch.code):<4}", "bold"),
                f" {plain(ch.title)}  ",
                (f"({ch.cards})", "dim"),
            )
            chapters.add_option((label, ch.code, chosen is None or ch.code in chosen))
        if chapters.option_count:  # space toggles a row at once, tabbed into or not
            chapters.highlighted = 0

    @on(Select.Changed, "#setup-deck")
    def _deck_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self._fill_chapters(event.value)

    def _info(self, extra: str = "") -> None:
        lines = []
        if self.unfinished is not None:
            lines.append(f"Unfinished exam {self.unfinished}: ctrl+r resumes it.")
        if extra:
            lines.append(extra)
        self.query_one("#setup-info", Static).update(literal("\n".join(lines)))

    def action_select_all(self) -> None:
        chapters = self.query_one("#setup-chapters", SelectionList)
        if len(chapters.selected) == chapters.option_count:
            chapters.deselect_all()
        else:
            chapters.select_all()

    def _int(self, widget_id: str, name: str, *, blank: int | None) -> int | None:
        raw = self.query_one(widget_id, Input).value.strip()
        if not raw:
            return blank
        try:
            value = int(raw)
        except ValueError:
            raise ExamError(f"{name} must be a whole number") from None
        if value < 0:
            raise ExamError(f"{name} cannot be negative")
        return value

    def spec(self) -> ExamSpec:
        deck = self.query_one("#setup-deck", Select).value
        chapters = [str(c) for c in self.query_one("#setup-chapters", SelectionList).selected]
        if not chapters:
            raise ExamError("choose at least one chapter")
        total = self._int("#setup-total", "Total minutes", blank=None)
        return ExamSpec(
            decks=[] if deck in (ALL_DECKS, Select.NULL) else [str(deck)],
            chapters=chapters,
            n=self._int("#setup-n", "Questions", blank=10) or 0,
            seed=self._int("#setup-seed", "Seed", blank=None),
            time_per_question_s=self._int("#setup-per", "Seconds per question", blank=120),
            total_time_s=None if total is None else total * 60,
            favour_weak=self.query_one("#setup-weak", Checkbox).value,
            include_self_graded=self.query_one("#setup-self", Checkbox).value,
            kinds=(
                list(self._kinds_with_drills)
                if self.query_one("#setup-drills", Checkbox).value
                else [ESSAY]
            ),
        )

    @on(Button.Pressed, "#setup-start")
    def action_start(self) -> None:
        if not self.loaded:  # the form is not filled yet: start as soon as it is
            self._start_asked = True
            return
        try:
            spec = self.spec()
        except ExamError as exc:
            self.notify(str(exc), severity="error")
            return
        self.create(spec)

    @work(thread=True, exclusive=True, group="exam-setup")
    def create(self, spec: ExamSpec) -> None:
        from labdeck.exam.compose import create_exam

        try:
            composed = create_exam(self.ctx.store, spec, now=self.ctx.clock)
        except ExamError as exc:
            self.notify_from_worker(str(exc), severity="error")
            return
        self.to_ui(self._open_exam, composed.exam_id)

    def _open_exam(self, exam_id: int) -> None:
        from labdeck.tui.screens.exam.sitting import ExamScreen

        self.app.switch_screen(ExamScreen(self.ctx, exam_id))

    def action_resume(self) -> None:
        if self.unfinished is None:
            self.notify("No unfinished exam.", timeout=2)
            return
        self._open_exam(self.unfinished)

    def action_history(self) -> None:
        self.open_history()
