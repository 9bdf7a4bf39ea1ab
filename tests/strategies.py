"""Hypothesis strategies that write valid `.rubric` source in varied layouts.

The layout varies what the formatter normalises (indent widths, default weights written out, levels in
descending order, redundant parentheses in checks, fields after items, comments) so that properties such
as `parse(fmt(x)) == parse(x)` are tested on text a person could have written.
"""

from __future__ import annotations

from hypothesis import strategies as st

from rubricdsl.syntax import ITEM_KINDS, KEYWORDS

KINDS_WITH_DEFAULTS = {"principle": 1, "essential": 5, "important": 3, "optional": 1, "pitfall": -1}
WORDS = [
    "response",
    "states",
    "energy",
    "five",
    "lists",
    "clear",
    "cites",
    "the",
    "a",
    "year",
    "#3",
    "x:y",
    '"quoted"',
    "über",
    "naïve",
    "—",
    "100%",
    "(see)",
    "[ref]",
    "a/b",
]

names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    # Not a keyword, and not shaped like a generated name (`hard_2`), which could collide with one.
    lambda n: n not in KEYWORDS and not n.startswith(tuple(f"{kind}_" for kind in ITEM_KINDS))
)
bare_text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)
comment = st.lists(st.sampled_from(WORDS), max_size=4).map(lambda ws: ("# " + " ".join(ws)).rstrip())


@st.composite
def text_value(draw: st.DrawFn, indent: str) -> str:
    """What follows `key:` — bare text, or a block opened with triple quotes."""
    if draw(st.booleans()):
        return " " + draw(bare_text)
    lines = draw(st.lists(bare_text, min_size=1, max_size=3))
    inner = indent + " " * draw(st.sampled_from([2, 4, 8]))
    body = "\n".join(inner + line for line in lines)
    return f' """\n{body}\n{inner}"""'


@st.composite
def check_expr(draw: st.DrawFn, depth: int = 0) -> str:
    atoms = [
        st.builds(
            lambda m, op, n: f"{m} {op} {n}",
            st.sampled_from(["words", "chars", "lines", "bullets", "headings"]),
            st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
            st.integers(0, 500),
        ),
        st.builds(
            lambda op, s, ic: f'{op} "{s}"' + (" ignorecase" if ic else ""),
            st.sampled_from(["contains", "startswith", "endswith"]),
            st.sampled_from(["As an AI", 'say \\"hi\\"', "C:\\\\dir", "#tag"]),
            st.booleans(),
        ),
        st.builds(
            lambda r, f: f"matches /{r}/{f}",
            st.sampled_from([r"\d{4}", r"a\/b", "^#+ ", "[a-z]+"]),
            st.sampled_from(["", "i", "ms"]),
        ),
        st.just("json"),
    ]
    if depth >= 2:
        return draw(st.one_of(atoms))
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return "not " + draw(check_expr(depth + 1))
    if choice == 1:
        op = draw(st.sampled_from([" and ", " or "]))
        parts = draw(st.lists(check_expr(depth + 1), min_size=2, max_size=3))
        return op.join(f"({p})" if draw(st.booleans()) else p for p in parts)
    return draw(st.one_of(atoms))


@st.composite
def item(draw: st.DrawFn, indent: str, step: int, depth: int = 0) -> str:
    kind = draw(
        st.sampled_from(
            ["hard", "criterion", "scale", "group", *KINDS_WITH_DEFAULTS]
            if depth < 2
            else ["hard", "criterion", *KINDS_WITH_DEFAULTS]
        )
    )
    weight = ""
    if kind == "criterion":
        weight = f" {draw(st.sampled_from(['3', '-2', '0.5', '+7', '10']))}"
    elif kind in KINDS_WITH_DEFAULTS:
        default = KINDS_WITH_DEFAULTS[kind]
        weight = draw(
            st.sampled_from(["", f" {default}", " 2" if default > 0 else " -2", " 1.5" if default > 0 else ""])
        )
    elif kind in ("scale", "group"):
        weight = draw(st.sampled_from(["", " 1", " 2"]))
    name = draw(st.one_of(st.none(), names))
    head = f"{indent}{kind}{weight}{' ' + name if name else ''}:" + draw(text_value(indent))
    lines = [head]
    inner = indent + " " * step
    if kind in ("hard", "criterion", *KINDS_WITH_DEFAULTS) and draw(st.booleans()):
        tail = f"  {draw(comment)}" if draw(st.booleans()) else ""
        lines.append(f"{inner}check: {draw(check_expr())}{tail}")
    elif kind == "scale":
        low = draw(st.integers(-1, 1))
        levels = [f"{inner}{n}: {draw(bare_text)}" for n in range(low, low + draw(st.integers(2, 5)))]
        lines.extend(reversed(levels) if draw(st.booleans()) else levels)
    elif kind == "group":
        for _ in range(draw(st.integers(1, 3))):
            lines.append(draw(item(inner, step, depth + 1)))
    if draw(st.booleans()):
        gap = "\n" if draw(st.booleans()) else ""
        lines.insert(0, indent + draw(comment) + gap)
    return "\n".join(lines)


@st.composite
def rubric_source(draw: st.DrawFn) -> str:
    step = draw(st.sampled_from([2, 4, 3]))
    ind = " " * step
    parts = []
    if draw(st.booleans()):
        parts.append("# a file comment")
    parts.append(f"principles shared:\n{ind}principle clear_writing:{draw(text_value(ind))}")
    fields = [f"{ind}title:{draw(text_value(ind))}"]
    if draw(st.booleans()):
        fields.append(f"{ind}prompt:{draw(text_value(ind))}")
    if draw(st.booleans()):
        fields.append(f"{ind}tags: {draw(st.sampled_from(['a, b', 'safety,  medical', 'x']))}")
    if draw(st.booleans()):
        fields.append(f"{ind}scoring:  # how to score\n{ind * 2}normalize: {draw(st.sampled_from(['minmax', 'sum']))}")
    items = draw(st.lists(item(ind, step), min_size=1, max_size=5))
    if draw(st.booleans()):
        items.append(f"{ind}use shared")
    body = items + fields if draw(st.booleans()) else fields + items
    separators = draw(st.lists(st.sampled_from(["\n", "\n", "\n\n"]), min_size=len(body), max_size=len(body)))
    lead = draw(st.sampled_from(["", "# about main\n", "# about main\n\n"]))
    parts.append(lead + "rubric main:" + "".join(sep + line for sep, line in zip(separators, body, strict=True)))
    return "\n\n".join(parts) + ("\n" if draw(st.booleans()) else "")
