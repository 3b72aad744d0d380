"""The in-place card editor (Browse ``e``): typing continues each text where it ends, and esc
never drops an edit without a word. The real modal, driven by Pilot at 80×24."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Static, TextArea
from tuihelpers import settle

from labdeck.store.queries import CardInfo
from labdeck.tui.screens.card_edit import CardEditScreen, EditRequest

CARD = CardInfo(
    key="exam-b:b1.1",
    deck="exam-b",
    chapter="B1",
    prompt="Describe seq2seq.",
    answer="An encoder and a decoder.",
    key_points=["encoder", "decoder"],
    demos=[],
)


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[EditRequest | None] = []

    def on_mount(self) -> None:
        self.push_screen(CardEditScreen(CARD, edited=False), self.results.append)


def _area(app: App, name: str) -> TextArea:
    return app.screen.query_one(f"#edit-{name}", TextArea)


async def test_typing_adds_to_the_end_of_the_text():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*" Briefly.")
        assert _area(app, "prompt").text == "Describe seq2seq. Briefly."
        await pilot.press("tab", *" Then attention.")
        assert _area(app, "answer").text == "An encoder and a decoder. Then attention."
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert app.results == [
        EditRequest(
            "save",
            {
                "prompt": "Describe seq2seq. Briefly.",
                "answer": "An encoder and a decoder. Then attention.",
                "key_points": ["encoder", "decoder"],
            },
        )
    ]


async def test_esc_with_unsaved_changes_asks_before_discarding():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*" Briefly.", "escape")
        await settle(pilot)
        assert isinstance(app.screen, CardEditScreen), "esc dropped the edit without a word"
        assert "esc again discards" in str(app.screen.query_one("#edit-error", Static).render())
        await pilot.press(*" More.", "escape")  # typing on: esc asks again
        await settle(pilot)
        assert isinstance(app.screen, CardEditScreen)
        assert _area(app, "prompt").text == "Describe seq2seq. Briefly. More."
        await pilot.press("escape")
        await settle(pilot)
    assert app.results == [None]


async def test_esc_without_changes_cancels_at_once():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, CardEditScreen)
    assert app.results == [None]
