"""Mock exam screens: setup, sitting (countdown, autosave), report (override, apply), history.

Every screen takes an ``ExamContext`` (the store and the injected callables) and calls the
headless core in ``labdeck.exam``; nothing heavy is imported here. The grader is built by the
context inside a thread worker, and the database is written from thread workers so the UI
never waits on it.

Flow: ``ExamSetupScreen`` → (switch) ``ExamScreen`` → (switch, on submit or time up)
``ExamReportScreen``; ``ExamHistoryScreen`` lists past exams and reopens reports or resumes an
unfinished sitting.
"""

from labdeck.tui.screens.exam.common import ExamContext
from labdeck.tui.screens.exam.history import ExamHistoryScreen
from labdeck.tui.screens.exam.report import REPORT_KEYS, ExamReportScreen
from labdeck.tui.screens.exam.setup import ExamSetupScreen
from labdeck.tui.screens.exam.sitting import ExamScreen

__all__ = [
    "REPORT_KEYS",
    "ExamContext",
    "ExamHistoryScreen",
    "ExamReportScreen",
    "ExamScreen",
    "ExamSetupScreen",
]
