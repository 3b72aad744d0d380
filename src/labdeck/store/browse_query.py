"""Browse's search syntax, as an Anki user types it, parsed into a small tree (pure: no SQL).

``attention "multi head" deck:exam-b chapter:B3 tag:attention is:due -is:suspended type:cloze``
— words and quoted phrases match a card's text; ``field:value`` filters; a leading ``-``
negates; terms side by side must all hold; ``or`` between terms (lower precedence than the
implied "and", as in Anki); parentheses group. ``labdeck.store.queries.browse_page`` turns the
tree into SQL. A query that cannot be read raises ``QueryError`` with one line for the learner.
"""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("deck", "chapter", "tag", "is", "type")
STATES = ("new", "due", "learn", "suspended", "leech", "buried", "edited")
TYPES = {
    "essay": "essay",
    "cloze": "cloze",
    "choice": "choice",
    "mc": "choice",
    "tf": "truefalse",
    "truefalse": "truefalse",
}

HELP = (
    'words and "quoted phrases" match prompt, answer, key points and notes '
    "(中文: simplified and traditional match each other) · deck:exam-b (key, alias or name; "
    "* wildcard) · chapter:B3 · tag:attention · is:new is:due is:learn is:suspended is:leech "
    "is:buried is:edited · type:essay|cloze|choice|tf · -term negates · a or b · (grouping)"
)


class QueryError(ValueError):
    """A search that cannot be read: one line saying what is wrong."""


@dataclass(frozen=True)
class Text:
    """A word or quoted phrase: a substring of the card's text."""

    value: str


@dataclass(frozen=True)
class Field:
    """``name:value`` — deck, chapter, tag (``*`` wildcards), is (a state), type (a kind)."""

    name: str
    value: str


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class All:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    nodes: tuple[Node, ...]


Node = Text | Field | Not | All | Any_
EVERYTHING = All(())


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" | ")" | "or" | "term"
    text: str = ""
    negated: bool = False
    quoted: bool = False  # began with a quote: ``"deck:x"`` is text, not a filter


def _tokens(query: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "()":
            out.append(_Token(ch))
            i += 1
            continue
        negated = False
        if ch == "-":
            negated, i = True, i + 1
            if i >= n or query[i].isspace():
                raise QueryError("'-' must come right before the term it leaves out (-is:new)")
        word, quoted, starts_quoted = [], False, i < n and query[i] == '"'
        while i < n and not query[i].isspace() and query[i] not in "()":
            if query[i] == '"':
                end = query.find('"', i + 1)
                if end < 0:
                    raise QueryError('a quote is not closed: add the closing "')
                word.append(query[i + 1 : end])
                quoted, i = True, end + 1
            else:
                word.append(query[i])
                i += 1
        text = "".join(word)
        if not quoted and not negated and text.casefold() in ("or", "and"):
            out.append(_Token(text.casefold()))
        elif text or quoted:
            out.append(_Token("term", text, negated, starts_quoted))
        elif negated:  # "-(" : negate a group
            out.append(_Token("not"))
    return out


# ---------------------------------------------------------------- parser


def _term(token: _Token) -> Node:
    text = token.text
    head, sep, value = text.partition(":")
    node: Node
    if sep and head.isascii() and head.isalpha() and not token.quoted:
        name = head.casefold()
        if name not in FIELDS:
            known = ", ".join(f"{f}:" for f in FIELDS)
            raise QueryError(
                f"unknown search field '{head}:' (known: {known}; quote it to search the text)"
            )
        value = value.strip()
        if not value:
            raise QueryError(f"'{name}:' needs a value, e.g. {_example(name)}")
        if name == "is":
            if value.casefold() not in STATES:
                raise QueryError(
                    f"unknown state 'is:{value}' (known: {', '.join('is:' + s for s in STATES)})"
                )
            value = value.casefold()
        elif name == "type":
            if value.casefold() not in TYPES:
                raise QueryError(
                    f"unknown card type 'type:{value}' (known: essay, cloze, choice, tf)"
                )
            value = TYPES[value.casefold()]
        node = Field(name, value)
    else:
        node = Text(text)
    return Not(node) if token.negated else node


def _example(name: str) -> str:
    return {
        "deck": "deck:exam-b",
        "chapter": "chapter:B3",
        "tag": "tag:attention",
        "is": "is:due",
        "type": "type:cloze",
    }[name]


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def any_(self) -> Node:
        parts = [self.all_()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            if (nxt := self.peek()) is None or nxt.kind in (")", "or"):
                raise QueryError("'or' needs a search term on both sides")
            parts.append(self.all_())
        return parts[0] if len(parts) == 1 else Any_(tuple(parts))

    def all_(self) -> Node:
        parts: list[Node] = []
        while (token := self.peek()) is not None and token.kind not in ("or", ")"):
            if token.kind == "and":
                self.take()
                continue
            parts.append(self.unary())
        if not parts:
            raise QueryError("'or' needs a search term on both sides")
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def unary(self) -> Node:
        token = self.take()
        if token.kind == "not":
            if (nxt := self.peek()) is None or nxt.kind != "(":
                raise QueryError("'-' must come right before the term it leaves out (-is:new)")
            return Not(self.unary())
        if token.kind == "(":
            if (nxt := self.peek()) is not None and nxt.kind == ")":
                raise QueryError("empty parentheses: put a search inside ( )")
            inner = self.any_()
            if (close := self.peek()) is None or close.kind != ")":
                raise QueryError("a parenthesis is not closed: add the closing )")
            self.take()
            return inner
        return _term(token)


def parse(query: str) -> Node:
    """The tree for ``query`` (``EVERYTHING`` when it is blank); QueryError when unreadable."""
    tokens = _tokens(query)
    if not tokens:
        return EVERYTHING
    parser = _Parser(tokens)
    if tokens[0].kind == "or":
        raise QueryError("'or' needs a search term on both sides")
    node = parser.any_()
    if parser.peek() is not None:  # only a stray ")" stops the top level early
        raise QueryError("a ')' has no matching '('")
    return node


def both(*nodes: Node) -> Node:
    """Every one of ``nodes`` (blank ones dropped)."""
    kept = tuple(n for n in nodes if n != EVERYTHING)
    if not kept:
        return EVERYTHING
    return kept[0] if len(kept) == 1 else All(kept)
