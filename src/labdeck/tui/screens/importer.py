"""Import: pick a file or deck folder, preview it (a dry run), then import it.

The screen takes what ``labdeck import`` takes, through the same code
(``labdeck.ingest.sources``): outline and Q&A documents, content deck folders (``deck.toml``),
Anki packages and Anki-style CSV/TSV. Parsing and database work run in thread workers; a bad
file becomes a one-line message naming ``file:line`` (the core's ``ImportError_``), never a
traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DirectoryTree, Header, Input, ProgressBar, Static

from labdeck.ingest.sources import FOREIGN_SUFFIXES
from labdeck.tui.literal import literal, plain
from labdeck.tui.widgets.steadyfooter import SteadyFooter
from labdeck.tui.wrap import Wrapped

if TYPE_CHECKING:
    from labdeck.ingest.load import ImportReport
from labdeck.tui.screens.base import LabdeckScreen
from labdeck.tui.widgets.editors import TextField

# what the picker lists besides folders: documents (told apart by their content) and the
# suffixes ``labdeck.ingest.sources`` reads as Anki packages and CSV/TSV
DOCUMENT_SUFFIXES = {".md", ".markdown", ".txt", ".text", *FOREIGN_SUFFIXES}
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
    """A directory tree that shows folders and importable files, no hidden files. A folder
    opened from the path box (``open``) comes with the cursor on its first entry, so enter
    picks it, and ``on_empty`` is told when it shows nothing to import."""

    on_empty: Callable[[Path], None] | None = None
    _cursor_to_first = False

    def open(self, folder: Path) -> None:
        self._cursor_to_first = True
        self.path = folder

    async def watch_path(self) -> None:
        await super().watch_path()  # (its root label: the path's name)
        if not self.is_attached:  # the screen went while the folder loaded
            return
        folder = Path(self.path)
        self.root.set_label(literal(f"{folder.name or folder}/"))
        if not self._cursor_to_first:
            return
        self._cursor_to_first = False
        if self.root.children:
            self.move_cursor(self.root.children[0])
        elif self.on_empty is not None:
            self.on_empty(folder)

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


def report_text(reports: Sequence[ImportReport], *, error: str | None = None) -> Text:
    """The import's reports as readable text (one per deck: an Anki package or a CSV file may
    hold several): the questions of new and updated cards as the file writes them, the notes
    attached (heading → card), mismatches and removals; every piece from the file or the file
    system is literal."""
    text = Text()
    if error:
        text.append("Cannot import\n", style="bold red")
        text.append(plain(error))
        return text
    dry_run = any(report.dry_run for report in reports)
    title = "Preview (dry run: nothing written)" if dry_run else "Imported"
    text.append(f"{title}\n", style="bold green" if not dry_run else "bold")
    for number, report in enumerate(reports):
        if number:
            text.append("\n")
        _append_report(text, report)
    if dry_run:
        text.append("\nctrl+s imports it.", style="dim")
    return text


def _append_report(text: Text, report: ImportReport) -> None:
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
    listing(
        "Items that matched no card of the deck (new cards of their own)",
        report.mismatches,
        "?",
        "yellow",
    )
    listing(
        "Cards that keep the notes of another document (labdeck import --replace-notes)",
        [report.label(f"kept {key}") for key in report.notes_kept],
        "=",
        "yellow",
    )
    listing("No longer in the document", labels(report.removed), "-", "red")
    if report.removed and not report.retired:
        text.append("(history is kept; retire them with `labdeck import --retire`)\n", style="dim")


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
                yield TextField(
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
        self.sub_title = "document, deck folder, Anki or CSV file"
        tree = self.query_one("#import-tree", DocumentTree)
        tree.on_empty = self._folder_empty
        tree.open(self.root)  # (the cursor on its first entry, as for a folder typed later)
        tree.focus()
        self.query_one("#import-progress").display = False
        self._status(
            "Pick a file (enter) or type its path: a folder opens here, a deck folder "
            "(deck.toml) is previewed. The preview is a dry run; ctrl+s imports it."
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
        from labdeck.ingest.sources import is_content_folder

        raw = self.query_one("#import-path", Input).value.strip()
        folder = Path(raw).expanduser() if raw else None
        if folder is not None and not folder.is_absolute():
            folder = self.root / folder
        if folder is not None and folder.is_dir() and not is_content_folder(folder):
            self.open_folder(folder)  # a plain folder: the picker opens there
            return
        self.action_preview()  # a file, or a deck folder (deck.toml)

    def open_folder(self, folder: Path) -> None:
        """Show ``folder`` in the file picker (the tree cannot climb above its root, so a typed
        folder is how to reach documents outside the home directory)."""
        self.root = folder.resolve()
        tree = self.query_one("#import-tree", DocumentTree)
        tree.open(self.root)
        tree.focus()
        self.picked = None
        self.query_one("#import-path", Input).value = ""
        self.query_one("#import-report", Static).update("")  # the last file's, not this folder's
        self.query_one("#import-progress", ProgressBar).display = False
        self._status(f"Showing {self.root}: pick a file (enter), or type another path.")

    def _folder_empty(self, folder: Path) -> None:
        # the tree's load can end while the screen is being taken down (i, esc in one
        # burst): its widgets are gone then
        if folder == self.root and self.query("#import-status"):
            self._status(
                f"{folder} holds no document, deck folder or Anki file (hidden files are not "
                "shown): type another path."
            )

    def action_focus_path(self) -> None:
        """The path box, its text selected (as a browser's ctrl+l): what is typed replaces
        it (QA: typing went in front of the last file's path)."""
        box = self.query_one("#import-path", Input)
        box.focus()
        box.select_all()

    def route_key(self, event: events.Key) -> bool:
        """Called by the app as each key arrives, before the bindings and the focused widget
        see it. Typing in the file picker types a path: the first character starts a new one
        in the path box (the picker has no letter keys of its own). The focus moves at once
        (``Screen.set_focus``; ``Widget.focus`` waits behind the keys already queued, which
        went on to the picker and replaced the box one by one: a fast-typed path ended as its
        last letter), so this key and every key after it reach the box in order. Never takes
        the key itself (False): the app hands it on to the box."""
        tree = self.query_one("#import-tree", DocumentTree)
        if self.focused is not tree or not event.is_printable or event.character in (None, " "):
            return False
        box = self.query_one("#import-path", Input)
        box.value = ""
        self.set_focus(box)
        return False

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
        """``labdeck import`` (``--dry-run`` for the preview) of one path, through the CLI's
        code: ``parse_source`` decides the format and parses the whole file first, so a bad
        file writes nothing."""
        from labdeck.ingest.common import ImportError_
        from labdeck.ingest.prompts import EnglishTerms
        from labdeck.ingest.sources import import_source, parse_source

        call = self.to_ui
        try:
            call(self._step, "reading and parsing")
            sources = parse_source(path, self.services.settings.rollover_hour)
            call(self._step, "matching against the deck" if dry_run else "writing")
            # the app's grading model finds the English term of a bare Chinese heading
            english = EnglishTerms(lambda: self.services.wait_grader(timeout=120).embedder.encode)
            reports = [
                report
                for source in sources
                for report in import_source(
                    self.services.store, source, dry_run=dry_run, english=english
                )
            ]
        except ImportError_ as exc:
            call(self._done, [], str(exc))
            return
        except Exception as exc:  # a database or unexpected problem: one line, no traceback
            call(self._done, [], f"{path}: {type(exc).__name__}: {exc}")
            return
        call(self._done, reports, None)

    def _step(self, label: str) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        self.query_one("#import-progress", ProgressBar).advance(1)
        self._status(f"{label}…")

    def _done(self, reports: list[ImportReport], error: str | None) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        self.busy = False
        bar = self.query_one("#import-progress", ProgressBar)
        if bar.total is not None:
            bar.update(progress=bar.total)
        dry_run = any(report.dry_run for report in reports)
        bar.display = error is None and not dry_run
        report = Wrapped(report_text(reports, error=error))  # a Chinese question wraps in place
        self.query_one("#import-report", Static).update(report)
        self.query_one("#import-report-scroll").scroll_home(animate=False)
        if error:
            self._status("The file was not imported: nothing was written.", "bold red")
            self.notify(error, severity="error", timeout=8)
            return
        if dry_run:
            self._status("Preview ready: ctrl+s imports it.", "bold")
        else:
            self._status("Done.", "bold green")
            decks = ", ".join(repr(report.deck) for report in reports)
            self.notify(f"Imported into deck {decks}.", timeout=4)
