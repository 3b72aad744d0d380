"""Home keeps the highlighted deck or chapter when it comes back on screen (QA: after Esc from
Exam C's review the cursor was on "All decks", and Enter started a review of everything).
Real app and store."""

from __future__ import annotations

from textual.widgets import Tree
from tuihelpers import settle, wait_for

from labdeck.tui.screens.home import HomeScreen, Scope
from labdeck.tui.screens.review import ReviewScreen


async def _round_trip(pilot, home: HomeScreen) -> None:
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
    review = pilot.app.screen
    await wait_for(pilot, lambda: review.phase == "answering")
    await pilot.press("escape", "escape")  # leave the box, then back home
    await wait_for(pilot, lambda: pilot.app.screen is home)
    await settle(pilot)


async def _home_with_counts(pilot) -> tuple[HomeScreen, Tree]:
    """Home, once its counts came from the store, and its deck tree."""
    home = pilot.app.screen
    assert isinstance(home, HomeScreen)
    await wait_for(pilot, lambda: "store" in home.counts_sources)
    await settle(pilot)
    return home, home.query_one("#decks", Tree)


async def test_the_highlighted_deck_and_chapter_are_kept_across_a_review(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        home, tree = await _home_with_counts(pilot)
        await pilot.press("down", "down")  # All decks → Exam B → Exam C
        assert home.selected_scope() == Scope("exam-c")
        await _round_trip(pilot, home)
        assert home.selected_scope() == Scope("exam-c")

        await pilot.press("space")  # open Exam C, down to its first chapter
        await pilot.press("down")
        chapter = home.selected_scope()
        assert chapter.deck == "exam-c" and chapter.chapter is not None
        await _round_trip(pilot, home)
        assert home.selected_scope() == chapter
        assert tree.cursor_node is not None and tree.cursor_node.data == chapter


async def test_arrows_open_and_close_a_deck_as_in_a_file_tree(make_app) -> None:
    """The README's `→` expands a deck: it did nothing (the tree binds only space). Enter and
    → are said above the tree (QA: the footer has no room for "⏎ Study" at 80 columns)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        home, tree = await _home_with_counts(pilot)
        keys = home.query_one("#decks-keys")
        assert str(keys.render()) == "⏎ study · → chapters"
        assert keys.region.right <= tree.region.right and keys.region.y == tree.region.y - 1
        await pilot.press("down", "down")
        deck = tree.cursor_node
        assert deck is not None and deck.data == Scope("exam-c") and not deck.is_expanded
        await pilot.press("right")
        assert deck.is_expanded and home.selected_scope() == Scope("exam-c")
        await pilot.press("right")  # into its first chapter
        chapter = home.selected_scope()
        assert chapter.deck == "exam-c" and chapter.chapter is not None
        await pilot.press("left")  # up to the deck, still open
        assert home.selected_scope() == Scope("exam-c") and deck.is_expanded
        await pilot.press("left")
        assert not deck.is_expanded and home.selected_scope() == Scope("exam-c")
        await pilot.press("left")  # a closed deck: nothing above to go to but All decks
        assert home.selected_scope() == Scope("exam-c") and tree.root.is_expanded


def _tree_labels(tree: Tree) -> list[str]:
    return [node.label.plain for node in tree.root.children]


async def test_a_narrow_home_gives_the_deck_names_the_heatmaps_room(make_app) -> None:
    """QA at 80×24: the deck names were cut to "Exam B · NLP, Transfor…" while the right pane
    kept 12 weeks of heatmap; under 100 columns it shows 8, and the names get the room."""
    from labdeck.tui.widgets.heatmap import Heatmap

    async with make_app().run_test(size=(80, 24)) as pilot:
        home, tree = await _home_with_counts(pilot)
        name = _tree_labels(tree)[0].split("  ")[-1].strip()
        assert name.startswith("Exam B · NLP, Transformers")
        assert len(name.rstrip("…")) >= 30  # 22 with the 12 weeks' pane
        heatmap = home.query_one("#heatmap", Heatmap)
        # (an empty heatmap says so: the QA read the grey squares as a missing legend)
        assert str(home.query_one("#heatmap-title").render()) == "No reviews in 8 weeks"
        assert home.query_one("#heatmap-title").content_region.height == 1  # one line
        rows = heatmap.render().plain.splitlines()  # type: ignore[union-attr]
        assert len(rows[0].split()) == 1 + 8  # "Mon" and a cell a week
        assert max(len(row.rstrip()) for row in rows) <= heatmap.content_region.width
        await pilot.resize_terminal(120, 36)
        await wait_for(
            pilot, lambda: str(home.query_one("#heatmap-title").render()).endswith("12 weeks")
        )
        rows = heatmap.render().plain.splitlines()  # type: ignore[union-attr]
        assert len(rows[0].split()) == 1 + 12
