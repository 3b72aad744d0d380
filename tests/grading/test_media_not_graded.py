"""Image and bare-URL lines of an imported answer stay on the card for display but never reach
the grader: not embedded, not key points (real import, real SQLite, the real USE model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from labdeck.grading.grader import Grader
from labdeck.ingest.load import detect_and_parse, import_document
from labdeck.store import open_store
from labdeck.store.models import Card
from labdeck.textfmt import is_media_line, without_media

QA = """# Media notes

## Basics

1. What does a GAN's discriminator do?
- Answer:
    - The discriminator tells real samples from generated ones.

        ![gan_fig](img/gan_fig.png)

        Image source: [https://example.org/gan](https://example.org/gan)

    It pushes the generator to produce realistic data.

    <img src="img/loop.png" width="300">

    https://example.org/more-reading

    read this article: [https://example.org/a](https://example.org/a)
"""

PLAIN = (
    "- The discriminator tells real samples from generated ones.\n\n"
    "It pushes the generator to produce realistic data."
)


@pytest.mark.parametrize(
    "line",
    [
        "![fig](img/a.png)",
        '    ![](https://x.org/a.png "title")',
        "[image: gan_fig — img/gan_fig.png]",
        '<img src="a.png" width=3>',
        "https://example.org/x",
        "<https://example.org/x>",
        "圖片來源: [https://medium.com/@a/b](https://medium.com/@a/b)。",
        "Image Source: https://example.org/x",
        "- ![fig](img/a.png)",
    ],
)
def test_media_lines(line: str) -> None:
    assert is_media_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "The VAE paper is at https://example.org and explains the ELBO.",
        "A plain sentence.",
        "See [the docs](https://example.org) for the details of the loss",
        "",
    ],
)
def test_sentences_with_links_are_not_media_lines(line: str) -> None:
    assert not is_media_line(line)


def test_inline_images_leave_the_sentence() -> None:
    assert without_media("GANs ![f](a.png) train two networks.") == "GANs  train two networks."


def test_imported_media_is_displayed_but_not_graded(tmp_path: Path, counting, use_embedder) -> None:
    doc_path = tmp_path / "media.md"
    doc_path.write_text(QA, encoding="utf-8")
    store = open_store(tmp_path / "home")
    import_document(store, detect_and_parse(doc_path), link=False)
    with Session(store.engine) as session:
        card = session.exec(select(Card)).one()
    answer = card.answer or ""
    # kept on the card, for display
    assert "[image: gan_fig — img/gan_fig.png]" in answer
    assert "https://example.org/more-reading" in answer and "img/loop.png" in answer

    typed = "The discriminator separates real from fake samples and pushes the generator."
    result = Grader(counting).grade(answer, typed)
    seen = "\n".join(counting.texts)
    for media in ("img/", "example.org", "<img", "[image:", "Image source", "read this article"):
        assert media not in seen, f"{media!r} reached the embedder"
        assert not any(media in k.text for k in result.key_points)

    plain = Grader(use_embedder).grade(PLAIN, typed)
    assert result.score == pytest.approx(plain.score, abs=1e-6)
    assert [k.text for k in result.key_points] == [k.text for k in plain.key_points]
