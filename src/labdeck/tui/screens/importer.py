"""Import: pick an outline or Q&A document, preview it (a dry run), then import it.

Parsing and database work run in thread workers; a bad file becomes a one-line message naming
``file:line`` (the core's ``ImportError_``), never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DirectoryTree, Header, Input, ProgressBar, Static

from labdeck.tui.literal import literal, plain
from labdeck.tui.widgets.steadyfooter import SteadyFooter

if TYPE_CHECKING:
    from labdeck.ingest.load import ImportReport
from labdeck.tui.screens.base import LabdeckScreen

DOCUMENT_SUFFIXES = {".md", ".markdown", ".txt", ".text"}
LIST_LIMIT = 30


def start_folder() -> Path:
    """Where the file picker opens: the home directory (where a learner's documents live),
    or the working directory when there is no usable home."""
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no HOME and no passwd entry
        return Path.cwd()
    return home if home.is_dir() else Path.cwd()


class DocumentTree(DirectoryTree):
    """A directory tree that shows folders and text documents, no hidden files."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        out = []
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                if path.is_dir() or path.suffix.lower() in DOCUMENT_SUFFIXES:
                    out.append(path)
            except OSError:
                continue
        return out

    def process_label(self, label: str | Text) -> Text:
        """File names are shown literally, control characters removed."""
        return super().process_label(literal(label))


def report_text(report: ImportReport | None, *, error: str | None = None) -> Text:
    """The ImportReport as readable text: the questions of new and updated cards as the
    document writes them, the notes attached (heading → card), mismatches and removals; every
    piece from the document or the file system is literal."""
    text = Text()
    if error:
        text.append("Cannot import\n", style="bold red")
        text.append(plain(error))
        return text
    assert report is not None  # an import without an error has its report
    title = "Preview (dry run: nothing written)" if report.dry_run else "Imported"
    text.append(f"{title}\n", style="bold green" if not report.dry_run else "bold")
    text.append(plain(report.summary()) + "\n")

    def listing(label: str, items: list[str], mark: str, style: str) -> None:
        if not items:
            return
        text.append(f"\n{label} ({len(items)})\n", style="bold")
        for item in items[:LIST_LIMIT]:
            text.append(f" {mark} ", style=style)
            text.append(f"{plain(item)}\n")
        if len(items) > LIST_LIMIT:
            text.append(f"   … and {len(items) - LIST_LIMIT} more\n", style="dim")

    def labels(keys: list[str]) -> list[str]:
        return [report.label(key) for key in dict.fromkeys(keys)]

    listing("New cards", labels(report.created), "+", "green")
    listing("Updated cards", labels(report.updated), "~", "yellow")
    listing(f"Notes attached to deck {report.deck}", labels(report.attached), "✎", "blue")
    listing("Items that matched no card of the deck", report.mismatches, "?", "yellow")
    listing(
        "Cards that keep the notes of another document (labdeck import --replace-notes)",
        [report.label(f"kept {key}") for key in report.notes_kept],
        "=",
        "yellow",
    )
    listing("No longer in the document", labels(report.removed), "-", "red")
    if report.removed and not report.retired:
        text.append("(history is kept; retire them with `labdeck import --retire`)\n", style="dim")
    if report.dry_run:
        text.append("\nctrl+s imports it.", style="dim")
    return text


class ImportScreen(LabdeckScreen):
    BINDINGS = [
        Binding("ctrl+s", "import_now", "Import", priority=True),
        Binding("f5", "preview", "Preview"),
        Binding("ctrl+l", "focus_path", "Path"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, root: Path | None = None) -> None:
        super().__init__()
        self.root = Path(root) if root else start_folder()
        self.busy = False
        self.picked: Path | None = None  # the file chosen in the tree

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="import"):
            with Vertical(id="import-pick"):
                yield Input(
                    placeholder="file or folder path",  # whole at 80 columns
                    id="import-path",
                    select_on_focus=False,  # typing in the picker goes on in the box
                )
                yield DocumentTree(self.root, id="import-tree")
            with Vertical(id="import-result"):
                yield Static(id="import-status")
                yield ProgressBar(total=3, show_eta=False, id="import-progress")
                with VerticalScroll(id="import-report-scroll"):
                    yield Static(id="import-report")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = "Import"
        self.sub_title = "outline or Q&A document"
        tree = self.query_one("#import-tree", DocumentTree)
        tree.root.set_label(literal(f"{self.root.name or self.root}/"))
        tree.focus()
        self.query_one("#import-progress").display = False
        self._status(
            "Pick a file (enter) or type its path (or a folder to open); the preview is a dry "
            "run. ctrl+s imports it."
        )

    def _status(self, message: str, style: str = "") -> None:
        self.query_one("#import-status", Static).update(literal(message, style=style))

    # ------------------------------------------------------------ choosing

    def _path(self) -> Path | None:
        raw = self.query_one("#import-path", Input).value.strip()
        if not raw:
            self.notify("Choose a file first.", severity="warning", timeout=3)
            return None
        if self.picked is not None and raw == plain(self.picked):
            return self.picked  # the box shows the name cleaned; the file keeps its real one
        path = Path(raw).expanduser()
        return path if path.is_absolute() else self.root / path

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.picked = event.path
        self.query_one("#import-path", Input).value = plain(event.path)
        self.action_preview()

    @on(Input.Submitted, "#import-path")
    def _path_submitted(self) -> None:
        raw = self.query_one("#import-path", Input).value.strip()
        folder = Path(raw).expanduser() if raw else None
        if folder is not None and not folder.is_absolute():
            folder = self.root / folder
        if folder is not None and folder.is_dir():  # a folder: the picker opens there
            self.open_folder(folder)
            return
        self.action_preview()

    def open_folder(self, folder: Path) -> None:
        """Show ``folder`` in the file picker (the tree cannot climb above its root, so a typed
        folder is how to reach documents outside the home directory)."""
        self.root = folder.resolve()
        tree = self.query_one("#import-tree", DocumentTree)
        tree.path = self.root
        tree.root.set_label(literal(f"{self.root.name or self.root}/"))
        tree.focus()
        self.picked = None
        self.query_one("#import-path", Input).value = ""
        self._status(f"Showing {self.root}: pick a file (enter), or type another path.")

    def action_focus_path(self) -> None:
        self.query_one("#import-path", Input).focus()

    def on_key(self, event: events.Key) -> None:
        """Typing in the file picker types a path: the first character starts a new one in the
        path box, which takes the focus (the picker has no letter keys of its own)."""
        tree = self.query_one("#import-tree", DocumentTree)
        if self.focused is not tree or not event.is_printable or event.character in (None, " "):
            return
        event.stop()
        event.prevent_default()
        box = self.query_one("#import-path", Input)
        box.value = event.character
        box.cursor_position = len(box.value)
        box.focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_preview(self) -> None:
        path = self._path()
        if path is not None and not self.busy:
            self._begin(f"Previewing {path.name}…")
            self.run_import(path, dry_run=True)

    def action_import_now(self) -> None:
        path = self._path()
        if path is not None and not self.busy:
            self._begin(f"Importing {path.name}…")
            self.run_import(path, dry_run=False)

    def _begin(self, message: str) -> None:
        self.busy = True
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=3, progress=0)
        bar.display = True
        self._status(message)

    # ------------------------------------------------------------ the work

    @work(thread=True, exclusive=True, group="import")
    def run_import(self, path: Path, dry_run: bool) -> None:
        from labdeck.ingest.common import ImportError_
        from labdeck.ingest.load import detect_and_parse, import_document
        from labdeck.ingest.prompts import EnglishTerms

        call = self.to_ui
        try:
            call(self._step, "reading and parsing")
            doc = detect_and_parse(path)
            call(self._step, "matching against the deck")
            # the app's grading model finds the English term of a bare Chinese heading
            english = EnglishTerms(lambda: self.services.wait_grader(timeout=120).embedder.encode)
            report = import_document(self.services.store, doc, dry_run=True, english=english)
            if not dry_run:
                call(self._step, "writing")
                report = import_document(self.services.store, doc, dry_run=False, english=english)
        except ImportError_ as exc:
            call(self._done, None, str(exc))
            return
        except Exception as exc:  # a database or unexpected problem: one line, no traceback
            call(self._done, None, f"{path}: {type(exc).__name__}: {exc}")
            return
        call(self._done, report, None)

    def _step(self, label: str) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        self.query_one("#import-progress", ProgressBar).advance(1)
        self._status(f"{label}…")

    def _done(self, report: ImportReport | None, error: str | None) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        self.busy = False
        bar = self.query_one("#import-progress", ProgressBar)
        if bar.total is not None:
            bar.update(progress=bar.total)
        bar.display = error is None and not (report is not None and report.dry_run)
        self.query_one("#import-report", Static).update(report_text(report, error=error))
        self.query_one("#import-report-scroll").scroll_home(animate=False)
        if error:
            self._status("The file was not imported: nothing was written.", "bold red")
            self.notify(error, severity="error", timeout=8)
            return
        assert report is not None  # an import without an error has its report
        if report.dry_run:
            self._status("Preview ready: ctrl+s imports it.", "bold")
        else:
            self._status("Done.", "bold green")
            self.notify(f"Imported into deck {report.deck!r}.", timeout=4)
