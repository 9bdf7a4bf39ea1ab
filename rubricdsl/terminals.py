"""Friendly names for every terminal of grammar/rubric.lark, so that errors speak in words."""

from __future__ import annotations

FRIENDLY: dict[str, str] = {
    # produced by the line lexer
    "IMPORT": "`import`",
    "IMPORT_PATH": "a quoted path",
    "DECLARATION_KIND": "`rubric` or `principles`",
    "NAME": "a name",
    "FIELD_KEY": "a field (`title:`, `prompt:`, `reference:`, `tags:`)",
    "SETTINGS_KEY": "`scoring:` or `judge:`",
    "SETTING_KEY": "a `key: value` setting",
    "SETTING_VALUE": "a setting's value",
    "USE": "`use`",
    "ITEM_KIND": "an item (`hard`, `essential`, `pitfall`, ...)",
    "WEIGHT": "a weight",
    "CHECK": "`check:`",
    "CHECK_SOURCE": "a check expression",
    "LEVEL": "a scale level (`1: ...`)",
    "BARE_TEXT": "text",
    "BLOCK_TEXT": "block text",
    "_COLON": "`:`",
    "_NL": "the end of the line",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
    # check expressions
    "MEASURE": "a measure (`words`, `chars`, `lines`, `sentences`, `paragraphs`, `bullets`, `numbered`, `headings`)",
    "COMPARATOR": "a comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`)",
    "INTEGER": "a whole number",
    "STRING": 'a quoted string (`"..."`)',
    "REGEX": "a regular expression (`/.../`)",
    "TEXT_PREDICATE": "`contains`, `startswith` or `endswith`",
    "IGNORECASE": "`ignorecase`",
    "_OR": "`or`",
    "_AND": "`and`",
    "_NOT": "`not`",
    "_MATCHES": "`matches`",
    "_JSON": "`json`",
    "_LPAR": "`(`",
    "_RPAR": "`)`",
}


def friendly(terminal: str) -> str:
    return FRIENDLY.get(terminal, f"`{terminal.lower()}`")


def expected_words(terminals: set[str] | frozenset[str]) -> str:
    """'a or b or c' in a stable order, leaving out layout tokens that only confuse."""
    shown = sorted({friendly(t) for t in terminals if t not in ("_NL", "_DEDENT")} or {friendly("_NL")})
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " or " + shown[-1]
