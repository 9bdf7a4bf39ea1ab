"""Every error code (`E…`) in one table: its message, its hint, and what it means and what to write instead.

`rubric rules CODE` and docs/codes.md are generated from this table, and a test fails when a module raises a
code the table does not have. Messages and hints are written as templates: `NAME`, `WORD`, `PATH`, `N` stand
for what the diagnostic fills in; where one code has several messages, the table gives their common shape.

Adding a code is one `Code(...)` entry in `CODES`, in code order. Codes are stable and never reused. This
module imports nothing of the package, so anything may import it.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES = {
    "E0": "reading the file",
    "E1": "lexical and syntax errors",
    "E2": "meaning errors: names, imports, weights, settings",
    "E3": "check expressions",
}


@dataclass(frozen=True)
class Code:
    """One error code: `message` and `hint` as the diagnostic says them, `explanation` for `rubric rules`."""

    code: str
    message: str
    hint: str
    explanation: str

    @property
    def category(self) -> str:
        return CATEGORIES[self.code[:2]]

    def describe(self) -> str:
        """The text `rubric rules CODE` prints."""
        lines = [f"{self.code} {self.message}", "", self.explanation]
        if self.hint:
            lines += ["", f"Hint: {self.hint}"]
        return "\n".join(lines)


# fmt: off
CODES: tuple[Code, ...] = (
    Code("E001", "file is larger than 5 MB", "split the rubrics into several files",
         "A .rubric file holds at most 5 MB; split a large set into files joined with `import`."),
    Code("E002", "file is not valid UTF-8", "save the file as UTF-8",
         "Rubric files are UTF-8 text (a byte-order mark is allowed); re-save the file in UTF-8."),
    Code("E101", "tab in indentation", "indent with spaces (the formatter writes 4 per level)",
         "Indentation is spaces only, so that every reader agrees on the nesting; replace the tabs."),
    Code("E102", "the first line is indented / unexpected indentation", "start the file at column 1",
         "A line is indented deeper than its place allows (the first line, or under a line that opens no "
         "block); indent only the body of a declaration, a settings block or an item."),
    Code("E103", "lone carriage return in a line", "use `\\n` or `\\r\\n` line endings",
         "A `\\r` not followed by `\\n` splits a line for some tools and not others; use `\\n` or `\\r\\n`."),
    Code("E104", "this line's indentation matches no enclosing block",
         "indent it by N spaces, as the block it belongs to",
         "A dedent must return to the indentation of an enclosing block; line it up with the block it belongs to."),
    Code("E105", "block text is never closed", 'end it with a line holding only `"""`',
         'A `"""` block text runs to a line holding only `"""`; add the closing line.'),
    Code("E106", "unknown keyword `WORD`", "keywords are lowercase: `word`",
         "A keyword written with capitals (`Hard`, `Rubric`); keywords are lowercase."),
    Code("E107", "unknown item kind `WORD`", "did you mean `KIND`?",
         "An item line starts with a word that is not an item kind; use hard, principle, essential, important, "
         "optional, pitfall, criterion, scale or group."),
    Code("E108", 'unknown keyword `WORD` / unexpected `"""`', "did you mean `KEYWORD`?",
         'A line starts with a word that is no keyword, field or item kind (or with a stray `"""`); '
         "fix the spelling, or put block text after a field's or item's colon."),
    Code("E109", "invalid name `NAME` / expected a name after `use`",
         "names are lowercase letters, digits and `_`, starting with a letter",
         "Names (of rubrics, principles sets and items) match `[a-z][a-z0-9_]*`; `use` needs a name after it."),
    Code("E110", "`NAME` is a keyword, not a name", "choose another name, e.g. `NAME_1`",
         "Keywords (`check`, `hard`, `rubric`, ...) cannot name things; choose another name."),
    Code("E111", "name longer than 64 characters", "shorten the name",
         "Names are at most 64 characters, so that they fit in verdicts, labels and reports."),
    Code("E112", "expected `:` after WHAT / expected `WORD NAME:` / expected a `key: value` setting",
         "write `KIND [WEIGHT] [NAME]: TEXT`",
         "A declaration, field, setting or item line lacks its `:` (or the name before it); every such line "
         "is `HEAD: ...`."),
    Code("E113", "empty text", 'write the text after the colon, or `"""` for a block',
         "An item, level or text field has nothing after its colon (or an empty block); write the text."),
    Code("E114", "unexpected text after `WORD NAME:` / `KEY:` opens a block of `key: value` lines",
         "the body goes on the following lines, indented",
         "A declaration line or a `scoring:`/`judge:` line opens a block and takes nothing after its colon; "
         "put the rest on its own indented lines."),
    Code("E115", "expected a quoted path after `import`", 'write `import "common/style.rubric"`',
         'An import names a file in double quotes: `import "PATH"`.'),
    Code("E116", "expected WHAT, found WHAT / WHAT outside any rubric / `import` after a declaration",
         "indent the body under the line that ends with `:`",
         "A line in a place the grammar does not allow: an item outside any rubric, an `import` after a "
         "declaration, a missing indented body; move or indent the line as the hint says."),
    Code("E117", "unexpected end of file, expected WHAT", "",
         "The file ends where more was expected (usually a declaration with no body); finish the construct."),
    Code("E119", "nesting deeper than 16 levels", "flatten the groups",
         "Groups nest at most 16 levels deep; flatten the tree."),
    Code("E201", "unknown name `NAME`", "visible names: ...; import the file that declares it",
         "A `use` names a rubric or principles set that is neither declared in the file nor imported; fix the "
         "name or add the `import`."),
    Code("E202", "`NAME` is declared twice", "also declared at FILE:LINE:COL; rename one of them",
         "Two declarations visible in one file (its own or imported) share a name; rename one."),
    Code("E203", "import cycle: PATH → PATH", "remove one of these imports",
         "Files import each other in a circle (or a file imports itself); move the shared declarations "
         "into a file both import."),
    Code("E204", "import `PATH` leaves the root directory", "imports stay inside ROOT (set the root with --root)",
         "Imports resolve inside the import root, so a rubric cannot read arbitrary files; keep the file under "
         "the root or set a wider root with `--root`."),
    Code("E205", "cannot find `PATH`", "looked for PATH",
         "The imported file does not exist; paths are relative to the importing file."),
    Code("E206", "`use` cycle: A → B → A", "remove one of these `use` lines",
         "Declarations `use` each other in a circle, so their items never end; remove one `use`."),
    Code("E207", "item name `NAME` is already used", "first used at FILE:LINE:COL; rename one of them",
         "Two items of one rubric (after `use` expansion) have the same name; item names identify verdicts, "
         "so rename one."),
    Code("E208", "item name `NAME` (the name generated for this unnamed `KIND`) is already used"
                 " / item name `NAME` is already used",
         "first used at FILE:LINE:COL; rename one of them",
         "An unnamed item's generated name (`KIND_N`) clashes with another item's name; name the items."),
    Code("E209", "pitfall weights are negative / KIND weights are positive", "did you mean -N?",
         "Pitfalls take negative weights and the other weighted kinds positive ones (a `criterion` takes "
         "either); flip the sign, or use `pitfall` for a penalty."),
    Code("E210", "hard rules take no weight", "remove the weight: a hard rule is a gate, not points",
         "A `hard` rule fails the whole response or passes; it adds no points, so it takes no weight."),
    Code("E211", "a `criterion` needs a weight", "write `criterion 5 NAME: ...`",
         "`criterion` has no default weight; write one (usually 1 to 10, negative for a penalty)."),
    Code("E212", "a weight of 0", "remove the item, or give it a weight",
         "An item weighted 0 counts for nothing but still costs a judge decision; remove it or weight it."),
    Code("E213", "`KEY:` is given twice / `KEY` is set twice", "keep one of them",
         "A field of a rubric, or a setting of a `scoring:`/`judge:` block, is written twice; keep one."),
    Code("E214", "a principles set has no `KEY:`", "principles sets hold items only; move the field to a rubric",
         "Principles sets are shared items; titles, prompts, tags and settings belong to the rubric using them."),
    Code("E215", "unknown `BLOCK` setting `KEY`", "did you mean `KEY`? valid settings: ...",
         "A `scoring:` or `judge:` block has a key it does not know; fix the spelling (the hint lists them)."),
    Code("E216", "invalid value `VALUE` for `KEY` / `KEY` has no value", "what the setting accepts",
         "A setting has no value or one it does not accept; the hint says what it takes."),
    Code("E217", "rubric `NAME` has no items", "add at least one item, e.g. `essential NAME: ...`",
         "A rubric with no items (after `use` expansion) grades nothing; add items or `use` a principles set."),
    Code("E218", "a scale needs at least two levels / level N is given twice / levels jump from N to M"
                 " / levels N..M are out of order",
         "number the levels 1, 2, 3, ...",
         "A `scale` has levels `1: ...`, `2: ...` indented under it: at least two, numbered consecutively, "
         "each once, written in ascending or descending order."),
    Code("E219", "levels under a `KIND` item", "levels belong to `scale` items: write `scale NAME: ...`",
         "Only a `scale` item has numbered levels; make the item a scale or remove the levels."),
    Code("E220", "a group holds no items / items nested under a `KIND` item",
         "indent at least one item under the group",
         "A `group` holds the items indented under it and no other kind holds items; fill the group, or make "
         "the parent a `group`."),
    Code("E221", "an item has at most one `check:` / a `KIND` item takes no `check:`", "join the checks with `and`",
         "An item takes one `check:` (join conditions with `and`), and `scale` and `group` items take none."),
    Code("E222", "empty tag", "write tags as `a, b, c` with no empty entries",
         "A `tags:` line has an empty entry (`a,, b` or a trailing comma); remove it."),
    Code("E223", "rubric `NAME` has N items", "a rubric holds at most 10000 items; split it",
         "A rubric holds at most 10,000 items (after `use` expansion); split it into several rubrics."),
    Code("E224", "the file declares no rubric / the file declares several rubrics",
         "choose one with --rubric NAME (or name=)",
         "Grading or compiling a file needs one rubric: the file has none, or several and none was chosen."),
    Code("E225", "no rubric named `NAME` / no principles set or rubric named `NAME`", "rubrics here: ...",
         "The rubric (or principles set) asked for by name is not declared in the file; pick one it lists."),
    Code("E226", "`model` and `models` are both set", "keep `model` for one judge or `models` for several",
         "A `judge:` block names one judge with `model` or a panel with `models`, not both."),
    Code("E227", "hard_fail H lies outside the range LOW..HIGH",
         "hard_fail is in the reward's units: pick a value inside the range",
         "`hard_fail` is the reward a response that fails a hard rule gets, in the units of `range`; "
         "pick a value inside the range."),
    Code("E301", "expected WHAT in check, found WHAT / check ends too early, expected WHAT"
                 " / empty check expression / invalid check: WHAT",
         "checks compare a measure with a whole number",
         "A `check:` is not a valid expression; checks compare a measure with a whole number (`words <= 250`) "
         'or use a predicate (`contains "x"`, `matches /x/`, `json`), joined by `and`, `or`, `not`.'),
    Code("E302", "regular expression the RE2 engine cannot compile", "RE2 has no look-around or back-references",
         "Regexes in checks run on RE2 (linear time, no look-around, no back-references); rewrite the pattern "
         "without them."),
)
# fmt: on

BY_CODE: dict[str, Code] = {entry.code: entry for entry in CODES}


def is_reading_or_syntax(code: str) -> bool:
    """An `E0xx` or `E1xx` code: the file was not read or did not parse, so there is no tree to check."""
    return code[:2] in ("E0", "E1")


def lookup(code: str) -> Code | None:
    """The table entry for an error code (any case), or None."""
    return BY_CODE.get(code.upper())
