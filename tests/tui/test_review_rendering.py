"""Issue 19.1: the review screen's card texts are pre-rendered literal Rich text, so grading and
accepting put prepared text into widgets that are already mounted: no widget is mounted or
removed from the second card on (the footer included), and the next card's texts are the ones
rendered while the learner studied this one. Real app, real store, real grader."""

from __future__ import annotations

import io
import itertools

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual.widgets._footer import FooterKey
from tuihelpers import SureGrader, settle, wait_for

from labdeck.grading.checklist import Ticks
from labdeck.tui.screens.review import AnswerBox, ReviewScreen
from labdeck.tui.widgets.cardtext import CardText, render_card_text
from labdeck.tui.widgets.checklist import checklist_text
from labdeck.tui.widgets.steadyfooter import SteadyFooter, merge

ANSWER = (
    "The encoder RNN reads the source tokens and compresses them into a final hidden state, "
    "a fixed context vector. The decoder RNN starts from that vector and generates the output "
    "one token at a time."
)


def drawn(renderable, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_card_text_is_literal_and_keeps_its_shape() -> None:
    source = (
        "# Title [bold]x[/] [@click=app.quit]q[/]\n\n"
        "Text with **bold**, `code`, $\\alpha + \\beta$ and [a link](https://e.vil) and "
        "<b>html</b>.\x1b[31m\n\n"
        "1. a first item long enough to wrap onto a second line at this width\n"
        "2. two\n"
        "   - nested item\n\n"
        "> quoted\n\n"
        "| Property | GAN |\n|---|---|\n| Likelihood | none (implicit) |\n"
    )
    out = drawn(render_card_text(source), 40)
    lines = out.splitlines()
    assert lines[0].strip() == "Title [bold]x[/] [@click=app.quit]q[/]"  # never markup
    flat = " ".join(out.split())
    assert "[a link](https://e.vil)" in flat and "<b>html</b>" in flat  # links, HTML: text
    assert "\x1b" not in out and "α" in out and "β" in out and "$" not in out
    first = next(i for i, line in enumerate(lines) if line.startswith("1. a first"))
    assert lines[first + 1].startswith("   ") and lines[first + 1].strip()  # hanging indent
    assert any(line.startswith("   ◦ nested item") for line in lines)
    assert any(line.startswith("▌ quoted") for line in lines)
    assert any("Likelihood" in line and "none (implicit)" in line for line in lines)


def test_no_text_is_cut_at_any_width() -> None:
    source = "编码器RNN逐个读取源序列的词元，把整个输入压缩成一个固定长度的上下文向量。\n\n- " + (
        "word " * 30
    )
    rendered = render_card_text(source)
    for width in (20, 33, 78):
        out = drawn(rendered, width)
        assert all(len(line) <= width for line in out.splitlines())
        flat = "".join(line.strip() for line in out.splitlines())
        assert "编码器RNN逐个读取源序列的词元，把整个输入压缩成一个固定长度的上下文向量。" in flat
        assert flat.count("word") == 30


def test_merge_keeps_known_keys_in_their_places() -> None:
    known = [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]
    assert merge(known, [("a", "1"), ("d", "4")]) == known
    assert merge(known, [("b", "2"), ("e", "5")]) == [
        ("a", "1"),
        ("b", "2"),
        ("e", "5"),
        ("c", "3"),
        ("d", "4"),
    ]


def footer_shows_the_active_keys(screen) -> None:
    """The keys laid out in the footer are the screen's active ones (as Textual's Footer would
    show them), in their order: a key shown again is laid out again, a key gone is not."""
    footer = screen.query_one(SteadyFooter)
    wanted = [w.slot for w in footer._wanted()]
    laid_out = [(k.key, k.action) for k in footer.query_children(FooterKey) if k.region.width]
    assert laid_out == wanted


def widgets(screen) -> set[int]:
    return {id(w) for w in screen.walk_children(with_self=False)}


async def grade_and_accept(pilot, screen: ReviewScreen, before: set[int] | None) -> None:
    """Type, grade, accept; with ``before``, the widgets stay the very same at each step."""
    await wait_for(pilot, lambda: screen.phase == "answering" and screen.card is not None)
    await settle(pilot)
    footer_shows_the_active_keys(screen)
    for key in ("escape", "w"):  # out of the box and back in: the footer follows each time
        await pilot.press(key)
        await settle(pilot)
        footer_shows_the_active_keys(screen)
    assert screen.query_one("#answer", AnswerBox).has_focus
    if before is not None:
        assert widgets(screen) == before
    screen.query_one("#answer", AnswerBox).insert(ANSWER)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
    await settle(pilot)
    reference = screen.query_one("#reference", CardText)
    # an essay's reference, or a drill's essay reference
    assert reference.display and reference.source.startswith("### ")
    heading = reference.source.splitlines()[0].removeprefix("### ")
    assert reference.rendered is not None and heading in reference.rendered.blocks.plain
    footer_shows_the_active_keys(screen)
    if before is not None:
        assert widgets(screen) == before
    key = screen.card.key
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen.card is not None and screen.card.key != key)
    await settle(pilot)
    footer_shows_the_active_keys(screen)
    if before is not None:
        assert widgets(screen) == before


async def test_grading_and_accepting_mount_no_widget(make_services, grader) -> None:
    from labdeck.tui.app import LabdeckApp

    services = make_services()
    services.reset_grader()
    services.grader_factory = lambda _settings: SureGrader(grader)
    services.load_grader()
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await grade_and_accept(pilot, screen, None)  # the footer meets the rating keys once
        await wait_for(pilot, lambda: screen.phase == "answering")
        rendered = screen.services.rendered
        await wait_for(pilot, lambda: len(rendered.ids()) >= 2)  # the next ones, rendered
        await settle(pilot)
        upcoming = {cid: rendered.get(cid) for cid in rendered.ids() if cid != screen.card.card_id}
        before = widgets(screen)
        await grade_and_accept(pilot, screen, before)
        shown = screen.prepared
        assert shown is not None and shown.view.card_id in upcoming
        assert shown.prompt is upcoming[shown.view.card_id].prompt  # rendered ahead, reused
        prompt = screen.query_one("#prompt", CardText)
        assert prompt.source.startswith(screen.card.prompt)  # (a drill: then its options)


# A real mixed Chinese/English sentence: at 80 columns Rich breaks it before "，" and after "（".
MIXED = (
    "多头注意力（multi-head attention）把查询、键和值分别投影到h个子空间，每个头独立计算"
    "softmax(QK^T/√d_k)V，最后把各头的输出拼接起来再做一次线性变换，这样模型能同时关注不同"
    "位置上的不同表示子空间（例如句法关系与语义关系），而单头注意力的加权平均会抑制这种能力。"
)
CLOSING = "，。、；：！？）」』】"
OPENING = "（「『【"


def _kinsoku_ok(lines: list[str]) -> None:
    lines = [line.rstrip() for line in lines if line.strip()]
    for before, line in itertools.pairwise(lines):
        assert line.lstrip()[0] not in CLOSING, (before, line)
        assert before[-1] not in OPENING, (before, line)


def test_card_text_wraps_chinese_without_a_line_starting_with_closing_punctuation() -> None:
    source = f"{MIXED}\n\n（{MIXED[:40]}）{MIXED}"
    out = drawn(render_card_text(source), 80)
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    _kinsoku_ok(lines)
    assert "".join(out.split()) == "".join(source.split())  # nothing lost or added


def test_the_checklist_wraps_a_chinese_point_by_the_same_rule() -> None:
    point = (  # at 75 columns (80 less the number and mark) Rich starts a line with "、"
        "在多头注意力里面，每个头在自己的子空间里独立计算softmax(QK^T/√d_k)V，各头输出拼接后"
        "再做一次线性变换，因此模型能同时关注不同位置的不同表示子空间（句法、语义等）"
    )
    ticks = Ticks([point, MIXED], ["covered", "missed"])
    lines = checklist_text(ticks, [None, None], width=80).plain.split("\n")
    assert max(cell_len(line) for line in lines) <= 80
    _kinsoku_ok([line[5:] for line in lines])  # the text after the number and mark


def test_text_without_the_cases_wraps_exactly_as_rich_does() -> None:
    from labdeck.tui.wrap import wrap

    console = Console(width=200, file=io.StringIO())
    latin = "Q·K^T/√d_k, softmax(…) → V; über-long-words-that-fold-" + "x" * 90 + " done"
    for source in (ANSWER, latin, "（" + "a" * 90 + "）"):
        for width in range(12, 81, 7):
            ours = [line.plain for line in wrap(Text(source), console, width, overflow="fold")]
            rich = [line.plain for line in Text(source).wrap(console, width, overflow="fold")]
            if source.startswith("（"):  # a bracket alone at a line's end moves down
                assert all(line[-1] != "（" for line in ours[:-1]) and "".join(ours) == source
            else:
                assert ours == rich, (source, width)


def test_a_chinese_run_breaks_between_characters_not_only_at_spaces() -> None:
    """Rich breaks only at spaces: after "Answer: " a run of Chinese that fits a line moved
    to the next line whole, leaving the rest of the line empty. Each line is filled: the
    next line's first character did not fit on it."""
    from labdeck.tui.wrap import wrap

    console = Console(width=200, file=io.StringIO())
    bare = "".join(" " if ch in CLOSING + OPENING else ch for ch in MIXED)
    for source in ("Answer: 词向量是一种将词语映射到低维稠密向量空间的方法", bare, MIXED):
        for width in range(12, 81, 7):
            lines = [line.plain for line in wrap(Text(source), console, width, overflow="fold")]
            assert "".join("".join(lines).split()) == "".join(source.split())
            assert max(cell_len(line) for line in lines) <= width
            for line, after in itertools.pairwise(lines):
                first, second = after.lstrip()[:1], after.lstrip()[1:2]
                if cell_len(first) == 2 and first not in OPENING and second not in CLOSING:
                    room = width - cell_len(line)  # spaces a line ends with count, as in Rich
                    assert room < 2 or line.rstrip()[-1:] in OPENING, (width, line, after)
    first = wrap(Text("Answer: 词向量是一种将词语映射到低维稠密向量空间"), console, 30)[0]
    assert first.plain == "Answer: 词向量是一种将词语映射"


async def test_what_follows_a_table_is_drawn_in_the_widget() -> None:
    """QA: everything after a table in a card's text was blank (Browse's review history under
    the schedule table, a reference's last paragraph): Textual gives the render its height,
    and Rich padded the table with blank lines to that height."""
    from textual.app import App, ComposeResult
    from textual.containers import VerticalScroll
    from tuihelpers import screen_text

    source = (
        "Intro line.\n\n| model | bias |\n|---|---|\n| ALiBi | fixed penalty |\n\n"
        "After the table.\n\n| n | EF |\n|---|---|\n| 1 | 2.60 |\n\nThe last line."
    )

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            with VerticalScroll():
                yield CardText(id="card")

        def on_mount(self) -> None:
            self.query_one(CardText).show_markdown(source)

    app = Host()
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "After the table." in text and "The last line." in text, text
        lines = [line.strip() for line in text.splitlines()]
        assert lines.index("The last line.") - lines.index("Intro line.") <= 14


def test_a_table_too_wide_for_the_pane_is_drawn_row_by_row_with_nothing_cut() -> None:
    """QA at 80x24: the exam report's comparison table cut every cell to "a…", "P…" (and at
    100x32 still "rotat…", "penal…"). Where the columns cannot hold their words, each row is
    drawn as its first cell, then "header: cell" lines; where they can, it stays a table."""
    source = (
        "| method | bias | params | extrapolation | used by |\n|---|---|---|---|---|\n"
        "| ALiBi | fixed penalty -m_h (i-j) on logits | none (fixed slopes) "
        "| good: train short, test long | BLOOM, MPT |\n"
        "| RoPE | rotation of q and k | none | poor without scaling | LLaMA… |\n\nAfter."
    )
    for width in (24, 40, 60):
        out = drawn(render_card_text(source), width)
        assert out.count("…") == 1, out  # the cell's own only
        flat = " ".join(out.split())
        for words in ("bias: fixed penalty -m_h (i-j) on logits", "used by: LLaMA…", "After."):
            assert words in flat, (width, out)
        assert max(cell_len(line) for line in out.splitlines()) <= width
    wide = drawn(render_card_text(source), 120)
    assert "method   bias" in wide and "bias:" not in wide  # room enough: a table
