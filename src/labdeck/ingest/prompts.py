"""Prompts for outline items whose heading is a bare term.

An outline heading such as "语言结构", "词向量" or "Attention" names a topic; on its own it is
a poor question on a card. Such an item's prompt carries its chapter for context
("A1 Linguistic structure › 语言结构") and, where the chapter names the topic in English, that
English term too ("… › 词向量 (word vectors)"): a "中文 (English)" gloss in the chapter's text,
the chapter's English title when the heading is its Chinese title, or (``EnglishTerms``, with
the grading model) the phrase of the chapter's English title or description that the heading
translates. "Bare" is decided by the heading's shape (short, no question mark, no question or
instruction word), never by a list of known topics, so any learner's outline gets the same
treatment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from labdeck.ingest.common import fold as _fold
from labdeck.textfmt import CJK_RE

CONTEXT_SEP = " › "
MAX_TERM_CHARS = 40  # longer headings are phrases or sentences, kept as written
MAX_TERM_WORDS = 6  # Latin words in a bare term ("Positional encoding in Transformers")
MAX_CJK_CHARS = 20

_QUESTION_MARKS = re.compile(r"[?？]")
_SENTENCE_PUNCT = re.compile(r"[。！!；;]|[.:：]\s*$|[.:]\s+\S")
# Words that make a heading a question (anywhere) or an instruction (first word).
_EN_ASKING = {
    "what", "why", "how", "when", "where", "which", "who", "whom", "whose",
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "should", "would",
    "will", "must",
}  # fmt: skip
_EN_TELLING = {
    "explain", "describe", "compare", "contrast", "define", "discuss", "list", "give",
    "name", "state", "derive", "outline", "summarise", "summarize", "show", "prove",
}  # fmt: skip
_ZH_ASKING = re.compile(
    r"什么|什麼|为什么|為什麼|为何|為何|如何|怎样|怎樣|怎么|怎麼|哪些|哪个|哪個|是否|吗|嗎|呢"
    r"|^(?:请|請|解释|解釋|描述|比较|比較|简述|簡述|说明|說明|阐述|闡述|列举|列舉|论述|論述"
    r"|讨论|討論|推导|推導|定义|定義|证明|證明)"
)
_ASIDE = re.compile(r"[（(][^()（）]*[)）]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*")
_CJK_TERM = (
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff][\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·・-]*"
)
_LATIN_PHRASE = r"[A-Za-z][A-Za-z0-9'’ /&+-]*?"
# "词向量（word vectors）" / "词向量 (word vectors)" and "word vectors (词向量)".
_ZH_THEN_EN = re.compile(rf"({_CJK_TERM})\s*[（(]\s*({_LATIN_PHRASE})\s*[）)]")
_EN_THEN_ZH = re.compile(rf"({_LATIN_PHRASE})\s*[（(]\s*({_CJK_TERM})\s*[）)]")
# Words that end an English phrase read backwards from a "(中文)" gloss.
_PHRASE_STOP = {
    "a", "an", "the", "and", "or", "with", "without", "on", "in", "into", "to", "for",
    "from", "by", "about", "including", "as", "such", "like", "is", "are", "covers",
    "cover", "covering", "its", "their", "this", "that", "these", "those", "e.g", "i.e",
    "eg", "ie", "via", "using", "then", "also",
}  # fmt: skip
MAX_GLOSS_WORDS = 5


def is_bare_term(heading: str) -> bool:
    """A heading that names a topic rather than asks about it, judged by its shape."""
    text = heading.strip()
    if not text or "\n" in text:
        return False
    core = _ASIDE.sub("", text).strip() or text  # "DDPM（图模型、ELBO…）" is the term DDPM
    if len(core) > MAX_TERM_CHARS or len(CJK_RE.findall(core)) > MAX_CJK_CHARS:
        return False
    if _QUESTION_MARKS.search(text) or _SENTENCE_PUNCT.search(text):
        return False
    words = [w.lower().strip("'’") for w in _LATIN_WORD.findall(core)]
    if len(words) > MAX_TERM_WORDS or any(w in _EN_ASKING for w in words):
        return False
    if words and _LATIN_WORD.match(core) and words[0] in _EN_TELLING:
        return False
    return not _ZH_ASKING.search(text)


def _english_phrase(before: str) -> str:
    """The English phrase that ends ``before`` (the text in front of a "(中文)" gloss)."""
    words = before.split()
    kept: list[str] = []
    for word in reversed(words):
        if word.lower().strip(".,") in _PHRASE_STOP or len(kept) == MAX_GLOSS_WORDS:
            break
        kept.append(word)
    return " ".join(reversed(kept)).strip(" /&+-")


def glosses(text: str) -> dict[str, str]:
    """Chinese term -> English term pairs written in ``text`` as "中文 (English)" or
    "English (中文)"; keys are folded (``_fold``)."""
    pairs: dict[str, str] = {}
    for match in _ZH_THEN_EN.finditer(text):
        english = match.group(2).strip(" /&+-")
        if english:
            pairs.setdefault(_fold(match.group(1)), english)
    for match in _EN_THEN_ZH.finditer(text):
        english = _english_phrase(match.group(1))
        if english:
            pairs.setdefault(_fold(match.group(2)), english)
    return pairs


def split_bilingual(title: str) -> tuple[str, str]:
    """A title's Chinese and English parts ("语言结构 Linguistic structure" -> both; a title in
    one language gives an empty other part)."""
    cjk = "".join(re.findall(rf"{_CJK_TERM}", title))
    latin = re.sub(rf"{_CJK_TERM}|[（()）/|:：·—–-]", " ", title)
    latin = re.sub(r"\s+", " ", latin).strip()
    return cjk, latin if _LATIN_WORD.search(latin) else ""


Encode = Callable[[list[str]], Any]  # texts -> an (n, d) array of sentence embeddings


class EnglishTerms:
    """Finds the English phrase of a chapter's English title or description that a Chinese
    heading names ("语言结构" -> "Linguistic structure"), by cross-lingual embedding similarity.

    ``encoder`` gives the embedding function when first needed (loading a model costs a second
    or two, so a document whose chapters have no English text never loads one); when it fails
    or gives None, no term is found and the import goes on. The bar is set for precision: a
    phrase must reach MIN_SIMILARITY (cosine, measured with the default multilingual USE model:
    true names 0.85-0.92, generic words such as "learning" for "对比学习" up to 0.76) and beat
    the best phrase that shares no word with it by MIN_MARGIN ("encoder" 0.85 against
    "decoder" 0.83 for "编码器" is too close to call).
    """

    MIN_SIMILARITY = 0.80
    MIN_MARGIN = 0.03
    MAX_WORDS = 4
    MAX_PHRASES = 400

    def __init__(self, encoder: Callable[[], Encode | None]) -> None:
        self._encoder = encoder
        self._encode: Encode | None = None
        self._failed = False
        self._phrases: dict[str, tuple[list[str], Any]] = {}

    def _embed(self, texts: list[str]) -> Any:
        import numpy as np

        if self._encode is None and not self._failed:
            try:
                self._encode = self._encoder()
            except Exception:  # no model: no term, the import itself is unaffected
                self._encode = None
            self._failed = self._encode is None
        if self._encode is None:
            return None
        try:
            vectors = np.asarray(self._encode(texts), dtype=np.float64)
        except Exception:
            self._failed, self._encode = True, None
            return None
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def phrases(self, text: str) -> list[str]:
        """English candidate phrases of ``text``: runs of up to MAX_WORDS words within a
        clause, neither starting nor ending with a function word."""
        out: dict[str, None] = {}
        for clause in re.split(r"[,;:.!?()\[\]（）、，；：。]|\s[–—-]\s|\s(?:and|or)\s", text):
            if CJK_RE.search(clause):
                clause = CJK_RE.sub(" ", clause)
            words = [w for w in clause.split() if _LATIN_WORD.fullmatch(w.strip("'’"))]
            for i in range(len(words)):
                for j in range(i + 1, min(len(words), i + self.MAX_WORDS) + 1):
                    first, last = words[i].lower(), words[j - 1].lower()
                    if first in _PHRASE_STOP or last in _PHRASE_STOP or last == "of":
                        continue
                    out.setdefault(" ".join(words[i:j]), None)
        return list(out)[: self.MAX_PHRASES]

    def find(self, heading: str, texts: list[str]) -> str | None:
        if self._failed:
            return None
        key = "\n".join(texts)
        if key not in self._phrases:
            candidates = [p for t in texts for p in self.phrases(t)]
            candidates = list(dict.fromkeys(candidates))
            vectors = self._embed(candidates) if candidates else None
            self._phrases[key] = (candidates, vectors)
        candidates, vectors = self._phrases[key]
        if not candidates or vectors is None:
            return None
        query = self._embed([heading])
        if query is None:
            return None
        scores = vectors @ query[0]
        order = sorted(range(len(candidates)), key=lambda i: -float(scores[i]))
        best = order[0]
        if float(scores[best]) < self.MIN_SIMILARITY:
            return None
        words = {w.lower() for w in candidates[best].split()}
        rival = next(
            (i for i in order[1:] if not words & {w.lower() for w in candidates[i].split()}), None
        )
        if rival is not None and float(scores[best]) - float(scores[rival]) < self.MIN_MARGIN:
            return None
        return candidates[best]


def english_term(
    heading: str,
    chapter_title: str,
    chapter_texts: list[str],
    chapter_title_zh: str | None = None,
    finder: EnglishTerms | None = None,
) -> str | None:
    """The English term for a Chinese ``heading``, when the chapter's own text names it: a
    "中文 (English)" gloss in the chapter title or texts, the chapter's English title when the
    heading is the chapter's Chinese title, else (with ``finder``) the English phrase of the
    chapter title or texts that the heading translates."""
    if not CJK_RE.search(heading):
        return None  # already English (or a formula)
    wanted = _fold(heading)
    for text in (chapter_title, *chapter_texts):
        found = glosses(text).get(wanted)
        if found:
            return found
    zh, en = split_bilingual(chapter_title)
    if chapter_title_zh:
        zh = chapter_title_zh
        en = en or chapter_title
    if en and zh and _fold(zh) == wanted and not CJK_RE.search(en):
        return en
    if finder is None:
        return None
    english = [t for t in (chapter_title, *chapter_texts) if _mostly_english(t)]
    return finder.find(heading, english) if english else None


def _mostly_english(text: str) -> bool:
    """English text to search for a term: more Latin words than Chinese characters (a Chinese
    description that names "InfoNCE" is not English text)."""
    words = len(_LATIN_WORD.findall(text))
    return words > 0 and words > len(CJK_RE.findall(text))


def outline_prompt(
    heading: str,
    code: str,
    chapter_title: str,
    chapter_texts: list[str],
    chapter_title_zh: str | None = None,
    finder: EnglishTerms | None = None,
) -> str:
    """The card prompt for an outline item: the heading as written, with the chapter's context
    (and the English term where the chapter names it) when the heading is a bare term."""
    if not is_bare_term(heading):
        return heading
    context = f"{code} {chapter_title}".strip()
    prompt = f"{context}{CONTEXT_SEP}{heading}" if context else heading
    english = english_term(heading, chapter_title, chapter_texts, chapter_title_zh, finder)
    if english and _fold(english) != _fold(heading):
        prompt += f" ({english})"
    return prompt
