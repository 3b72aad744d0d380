"""Statistics as plots: answers and minutes per day, the 30-day due forecast, true retention by
interval band (young / mature, as Anki's) and by time window, E-Factor distribution and
per-chapter mastery; a text line with FSRS's predicted recall today per deck. Every chart names
its series and units, and says so when it has no data yet. The numbers come from
``Scheduler.stats`` in a worker; the screen only draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Header, Static

from labdeck.tui.screens.base import LabdeckScreen
from labdeck.tui.widgets.plots import Chart
from labdeck.tui.widgets.steadyfooter import SteadyFooter

if TYPE_CHECKING:
    from labdeck.srs.fsrs_deck import DeckRetrievability
    from labdeck.srs.scheduler import Scheduler
    from labdeck.srs.stats import BandRetention, ChapterMastery, TodaySummary

RETENTION_WINDOWS: tuple[tuple[str, int | None], ...] = (
    ("7 d", 7),
    ("30 d", 30),
    ("90 d", 90),
    ("all", None),
)
REVIEW_DAYS = 30
FORECAST_DAYS = 30


@dataclass
class StatsData:
    today: date
    per_day: list[tuple[date, int]]
    forecast: list[tuple[date, int]]
    retention: list[tuple[str, int, int]]  # window label, reviews, passed
    bands: list[BandRetention]  # all time
    minutes: list[tuple[date, float]]
    ease: list[tuple[Decimal, int]]
    mastery: list[ChapterMastery]
    streak: int
    summary: TodaySummary
    retrievability: list[DeckRetrievability] = field(default_factory=list)


def load_stats(scheduler: Scheduler) -> StatsData:
    stats = scheduler.stats
    retention: list[tuple[str, int, int]] = []
    for label, days in RETENTION_WINDOWS:
        r = stats.retention(days)
        retention.append((label, r.reviews, r.passed))
    return StatsData(
        today=scheduler.today(),
        per_day=stats.reviews_per_day(REVIEW_DAYS),
        forecast=scheduler.forecast(FORECAST_DAYS),
        retention=retention,
        bands=stats.retention_by_interval(),
        minutes=stats.time_per_day(REVIEW_DAYS),
        ease=stats.ease_distribution(),
        mastery=stats.chapter_mastery(),
        streak=stats.streak(),
        summary=stats.today(),
        retrievability=stats.retrievability(),
    )


def _share(bands: list[BandRetention]) -> str:
    """Pooled retention of some interval bands, e.g. "91% of 34", or "-" with no reviews."""
    reviews = sum(b.reviews for b in bands)
    if not reviews:
        return "-"
    return f"{sum(b.passed for b in bands) / reviews:.0%} of {reviews}"


def _day_labels(days: list[date], every: int = 7) -> tuple[list[int], list[str]]:
    ticks = list(range(0, len(days), every))
    return ticks, [f"{days[i]:%d %b}" for i in ticks]


class StatsScreen(LabdeckScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.pop_screen", "Back", show=False),
        Binding("f5", "refresh", "Refresh"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="stats-summary")
        with VerticalScroll(id="stats-body"):
            with Grid(id="stats-grid"):
                yield Chart(f"Answers per day, last {REVIEW_DAYS} days", id="chart-reviews")
                yield Chart(f"Time spent per day, last {REVIEW_DAYS} days", id="chart-time")
                yield Chart(f"Reviews due, next {FORECAST_DAYS} days", id="chart-forecast")
                yield Chart("True retention by interval", id="chart-bands")
                yield Chart("Retention of scheduled reviews", id="chart-retention")
                yield Chart("E-Factor distribution (reviewed cards)", id="chart-ease")
            yield Chart("Mastery per chapter, % known (2+ passes in a row)", id="chart-mastery")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = "Statistics"
        self.sub_title = "reviews, forecast, retention, mastery"
        self.query_one("#stats-body").focus()
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="stats")
    def load(self) -> None:
        try:
            data = load_stats(self.services.scheduler())
        except Exception as exc:
            self.notify_from_worker(f"Could not compute statistics: {exc}", severity="error")
            return
        self.to_ui(self._show, data)

    def _show(self, data: StatsData) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        summary = data.summary
        total = sum(n for _, n in data.per_day)
        text = Text()
        text.append("Today ", style="bold")
        text.append(f"{summary.answered} answered")
        if summary.answered:
            text.append(f" ({summary.passed_share:.0%} with q ≥ 3)")
        text.append(f" · streak {data.streak} day{'s' if data.streak != 1 else ''}")
        text.append(f" · {total} answer{'s' if total != 1 else ''} in {REVIEW_DAYS} days")
        month = next((r for r in data.retention if r[0] == "30 d"), None)
        if month and month[1]:
            text.append(f" · 30-day retention {month[2] / month[1]:.0%} of {month[1]}")
        due_week = sum(n for _, n in data.forecast[:7])
        text.append(f" · {due_week} due in 7 days")
        recall = [r for r in data.retrievability if r.mean is not None]
        if recall:
            # FSRS's memory model estimates recall whichever scheduler a deck uses
            text.append("\nEstimated recall today (FSRS memory model) ", style="bold")
            text.append(" · ".join(f"{r.deck} {r.mean:.0%} of {r.cards}" for r in recall))
        self.query_one("#stats-summary", Static).update(text)

        days = [d for d, _ in data.per_day]
        self.query_one("#chart-reviews", Chart).bars(  # one bar a day, as Anki draws it
            list(range(len(days))),
            [n for _, n in data.per_day],
            xticks=_day_labels(days),
            ylabel="answers",
            empty="no answers yet",
            counts=True,
        )
        minute_days = [d for d, _ in data.minutes]
        self.query_one("#chart-time", Chart).bars(
            list(range(len(minute_days))),
            [m for _, m in data.minutes],
            xticks=_day_labels(minute_days),
            ylabel="minutes",
            color="blue",
            empty="no timed answers yet",
        )
        forecast_days = [d for d, _ in data.forecast]
        self.query_one("#chart-forecast", Chart).bars(
            list(range(len(forecast_days))),  # numbers, with dates as tick labels
            [n for _, n in data.forecast],
            xticks=_day_labels(forecast_days),
            ylabel="cards due (overdue today)",
            color="green",
            empty="nothing scheduled",
            counts=True,
        )
        bands = self.query_one("#chart-bands", Chart)
        young = [b for b in data.bands if not b.mature]
        mature = [b for b in data.bands if b.mature]
        # the pooled young / mature shares under the bands (the title keeps to its plot's width)
        reviewed = any(b.reviews for b in data.bands)
        pooled = f"young {_share(young)} · mature {_share(mature)}" if reviewed else ""
        compact = [b.band.replace(" ", "") for b in data.bands]  # "21-89d"
        bands.bars(
            [f"{b.band} ({b.reviews})" for b in data.bands],
            [round(100 * b.rate, 1) if b.rate is not None else 0 for b in data.bands],
            xlabel=pooled,
            ylabel="% with q ≥ 3",
            color="red",
            ylim=(0, 100),
            empty="no scheduled reviews yet",
            # every band keeps a label: shorter ones where the full ones do not fit
            shorter=[
                [f"{c} ({b.reviews})" for c, b in zip(compact, data.bands, strict=True)],
                compact,
            ],
        )
        retention = self.query_one("#chart-retention", Chart)
        retention.bars(  # each window's review count on its label, as the bands have theirs
            [f"{label} ({n})" for label, n, _ in data.retention],
            [round(100 * p / n, 1) if n else 0 for _, n, p in data.retention],
            xlabel="(reviews)" if any(n for _, n, _ in data.retention) else "",
            ylabel="% with q ≥ 3",
            color="orange",
            ylim=(0, 100),
            empty="no scheduled reviews yet",
            shorter=[
                [f"{label.replace(' ', '')} ({n})" for label, n, _ in data.retention],
                [label for label, _, _ in data.retention],
            ],
        )
        self.query_one("#chart-ease", Chart).bars(
            [f"{ease:.2f}" for ease, _ in data.ease],
            [n for _, n in data.ease],
            ylabel="cards",
            color="magenta",
            empty="no reviewed cards yet",
            counts=True,
        )
        self.query_one("#chart-mastery", Chart).bars(
            [m.chapter for m in data.mastery],
            [round(100 * m.mastery, 1) for m in data.mastery],
            ylabel="% known",
            color="cyan",
            ylim=(0, 100),
            empty="no card known yet",
        )
