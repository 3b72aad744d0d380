"""Which card of a deck a learner's Q&A question is about, when its notes attach to that deck.

A learner's copy of a question list is numbered like the deck's source, usually: the number is
the first clue. It is not enough on its own — a reordered or shortened copy (an English original
with its own order, a list with a question the deck does not have) put notes on the wrong cards.
So the number is checked against the question's words, and the words can overrule it:

* the card with the question's number is taken when the question shares at least ``NUMBER_MIN``
  of its content words with that card's prompt (English or Chinese) — a translation or a
  rewording shares few, an unrelated question none; when the card's prompts are in no script
  the question uses, the words cannot tell and the number stands — unless another card
  matches the words clearly better (``STRONG``, ahead by ``LEAD``);
* otherwise the card whose prompt the question's words match best, if they match it strongly
  (``STRONG``) and no other card comes close (``MARGIN``);
* otherwise none: the question gets a card of its own, and the import report names it.

Similarity is the share of the shorter text's content words (English words with a crude suffix
fold, stop words dropped; Chinese character bigrams, traditional folded to simplified) that the
other text has too. Measured on the shipped interview deck: the learner's traditional-Chinese
notes (69 questions) share 0.22–0.78 with their own card, at most 0.40 with any other; the
English original's questions 0.71–0.75 with theirs; an unrelated question at most 0.25.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from labdeck.textfmt import to_simplified

NUMBER_MIN = 0.15
STRONG = 0.6
LEAD = 0.3
MARGIN = 0.15

_STOP_WORDS = (
    "the a an of and or to in on for with is are was were what how does do why which that "
    "this it its their from by as be can could would should explain describe discuss "
    "between into about when where who whom they them there these those than then also"
)
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[a-z][a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u9fff]+")


@lru_cache(maxsize=4096)
def content_words(text: str) -> frozenset[str]:
    """The words a question is compared by (see the module's docstring)."""
    norm = unicodedata.normalize("NFKC", to_simplified(text)).casefold()
    words = {_stem(w) for w in _WORD.findall(norm) if w not in _STOP}
    bigrams = {run[i : i + 2] for run in _CJK.findall(norm) for i in range(len(run) - 1)}
    return frozenset(words | bigrams)


def _stem(word: str) -> str:
    """A crude English suffix fold ("training" and "trains" read as "train")."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _scripts(words: frozenset[str]) -> set[bool]:
    """Which scripts the words are in: True for Chinese, False for Latin."""
    return {bool(_CJK.match(w)) for w in words}


def similarity(question: str, texts: Sequence[str | None]) -> float | None:
    """The best share of shared content words between ``question`` and any of ``texts``;
    None when no text has words in a script the question's words are in (an English question
    against a card with only a Chinese prompt: the words cannot tell)."""
    mine = content_words(question)
    best: float | None = None
    for text in texts:
        theirs = content_words(text or "")
        if mine and theirs and _scripts(mine) & _scripts(theirs):
            share = len(mine & theirs) / min(len(mine), len(theirs))
            best = share if best is None else max(best, share)
    return best


@dataclass(frozen=True)
class Candidate:
    """A card a question may be about: its id, number in its source and prompts."""

    card_id: int
    number: str
    prompts: tuple[str | None, ...]


def pick(question: str, number: str, candidates: Sequence[Candidate]) -> int | None:
    """The id of the card ``question`` (numbered ``number`` in its document) is about, among
    ``candidates`` (the cards still free), or None."""
    if not candidates:
        return None
    scores = {c.card_id: similarity(question, c.prompts) for c in candidates}
    ranked = sorted(candidates, key=lambda c: scores[c.card_id] or 0.0, reverse=True)
    best, best_score = ranked[0], scores[ranked[0].card_id] or 0.0
    runner_up = (scores[ranked[1].card_id] or 0.0) if len(ranked) > 1 else 0.0
    numbered = next((c for c in candidates if c.number == number), None)
    if numbered is not None:
        own = scores[numbered.card_id]
        if own is None or own >= NUMBER_MIN:  # the words agree, or cannot tell
            clearly_other = (
                best is not numbered and best_score >= STRONG and best_score >= (own or 0.0) + LEAD
            )
            return best.card_id if clearly_other else numbered.card_id
    if best_score >= STRONG and best_score - runner_up >= MARGIN:
        return best.card_id
    return None
