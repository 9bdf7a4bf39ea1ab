"""The syntax tree: frozen dataclasses, one per construct of LANGUAGE.md.

Spans and layout details (how a text was written, where a comment sat) are excluded from equality, so two
files that mean the same parse to equal trees. The tree is canonical where the formatter is: a weight equal
to its kind's default is stored as None, fields are kept in the order of LANGUAGE.md's table, scale levels
ascending, and `and`/`or` chains flattened; the validator still sees what was written through the spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Span

NO_SPAN = Span(0, 0, 0, 0)

ITEM_KINDS = ("hard", "principle", "essential", "important", "optional", "pitfall", "criterion", "scale", "group")
DEFAULT_WEIGHTS: dict[str, float | None] = {
    "hard": None,
    "principle": 1.0,
    "essential": 5.0,
    "important": 3.0,
    "optional": 1.0,
    "pitfall": -1.0,
    "criterion": None,
    "scale": 1.0,
    "group": 1.0,
}
TEXT_FIELDS = ("title", "prompt", "reference")
SETTINGS_FIELDS = ("scoring", "judge")
FIELD_ORDER = ("title", "prompt", "reference", "tags", "scoring", "judge")
KEYWORDS = frozenset(
    [
        "import",
        "rubric",
        "principles",
        "use",
        "title",
        "prompt",
        "reference",
        "tags",
        "scoring",
        "judge",
        "hard",
        "principle",
        "essential",
        "important",
        "optional",
        "pitfall",
        "criterion",
        "scale",
        "group",
        "check",
    ]
)
MEASURES = ("words", "chars", "lines", "sentences", "paragraphs", "bullets", "numbered", "headings")


def _span() -> Span:
    span: Span = field(default=NO_SPAN, compare=False, repr=False, kw_only=True)
    return span


class Comments(tuple[str, ...]):
    """Leading comment lines; an empty entry marks a blank line the author left between them.

    Blank lines are layout, not content: equality ignores them, so a formatter that moves a blank line
    (it always puts one between declarations, and between fields and items) leaves the tree equal.
    """

    def _texts(self) -> tuple[str, ...]:
        return tuple(c for c in self if c)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple):
            return self._texts() == tuple(c for c in other if c)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._texts())


def _comments() -> tuple[str, ...]:
    comments: tuple[str, ...] = field(default=Comments(), kw_only=True)
    return comments


# ---------------------------------------------------------------- check expressions


@dataclass(frozen=True)
class Comparison:
    measure: str
    op: str
    value: int
    span: Span = _span()


@dataclass(frozen=True)
class TextTest:
    """`contains`, `startswith` or `endswith` a literal string."""

    op: str
    value: str
    ignorecase: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class RegexTest:
    pattern: str
    flags: str = ""
    span: Span = _span()
    pattern_span: Span = _span()


@dataclass(frozen=True)
class JsonTest:
    span: Span = _span()


@dataclass(frozen=True)
class Not:
    operand: CheckExpr
    span: Span = _span()


@dataclass(frozen=True)
class AllOf:
    operands: tuple[CheckExpr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class AnyOf:
    operands: tuple[CheckExpr, ...]
    span: Span = _span()


CheckExpr = Comparison | TextTest | RegexTest | JsonTest | Not | AllOf | AnyOf


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Text:
    value: str
    block: bool = field(default=False, compare=False)
    span: Span = _span()


@dataclass(frozen=True)
class Check:
    expr: CheckExpr
    source: str = field(default="", compare=False)
    comments: tuple[str, ...] = _comments()
    trailing_comment: str | None = field(default=None, kw_only=True)
    span: Span = _span()


@dataclass(frozen=True)
class Level:
    level: int
    text: Text
    comments: tuple[str, ...] = _comments()
    span: Span = _span()


@dataclass(frozen=True)
class Item:
    kind: str
    weight: float | None
    name: str | None
    text: Text
    check: Check | None = None
    levels: tuple[Level, ...] = ()
    children: tuple[Item | Use, ...] = ()
    comments: tuple[str, ...] = _comments()
    span: Span = _span()
    kind_span: Span = _span()
    weight_span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)
    name_span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)
    # Extra `check:` lines: an error the validator reports, kept so nothing written is lost.
    extra_checks: tuple[Check, ...] = field(default=(), compare=False, repr=False, kw_only=True)

    @property
    def effective_weight(self) -> float | None:
        return self.weight if self.weight is not None else DEFAULT_WEIGHTS[self.kind]


@dataclass(frozen=True)
class Use:
    name: str
    comments: tuple[str, ...] = _comments()
    trailing_comment: str | None = field(default=None, kw_only=True)
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    comments: tuple[str, ...] = _comments()
    trailing_comment: str | None = field(default=None, kw_only=True)
    span: Span = _span()
    value_span: Span = _span()


@dataclass(frozen=True)
class Field:
    """A rubric field. `value` is Text for title/prompt/reference, a tuple of labels for tags, and a tuple
    of Settings for scoring/judge."""

    key: str
    value: Text | tuple[str, ...] | tuple[Setting, ...]
    comments: tuple[str, ...] = _comments()
    trailing_comment: str | None = field(default=None, kw_only=True)
    # For tags: the text as written, so the formatter and lint can see empty labels.
    raw: str = field(default="", compare=False, kw_only=True)
    span: Span = _span()


@dataclass(frozen=True)
class Declaration:
    """`rubric NAME:` or `principles NAME:` with its fields (canonical order) and body (written order)."""

    kind: str
    name: str
    fields: tuple[Field, ...]
    body: tuple[Item | Use, ...]
    comments: tuple[str, ...] = _comments()
    trailing_comment: str | None = field(default=None, kw_only=True)
    span: Span = _span()
    name_span: Span = _span()

    def get_field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)


@dataclass(frozen=True)
class Import:
    path: str
    comments: tuple[str, ...] = _comments()
    trailing_comment: str | None = field(default=None, kw_only=True)
    span: Span = _span()
    path_span: Span = _span()


@dataclass(frozen=True)
class File:
    imports: tuple[Import, ...]
    declarations: tuple[Declaration, ...]
    trailing_comments: tuple[str, ...] = ()
    path: str | None = field(default=None, compare=False)


BodyNode = Item | Use
