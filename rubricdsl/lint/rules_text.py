"""Lint rules that read an item's text: comments written as text, compound, vague or subjective criteria,
pitfalls that describe the good behaviour, references to context the judge never sees, long items and
category labels copied into the text.

The heuristics are deliberately narrow: a rule that flags good, ordinary criteria teaches people to ignore
the linter, so each one fires only on a pattern that is wrong in almost every rubric it appears in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..diagnostics import Diagnostic, Span, warning
from ..syntax import Declaration, Item, Text
from ..validate import walk_items
from .context import LintContext

# "The response states …", "The reply avoids …": criteria are often written with the response as
# subject; the heuristics below look at what comes after it.
_SUBJECT = re.compile(r"^(?:the\s+)?(?:response|reply|answer|model|assistant|essay|output|submission|it)\s+",
                      re.IGNORECASE)

# Third-person verbs that open a demand ("Explains …", "Lists …"). Only these forms count: "and use an
# AED" or "and at rest" continue one demand, "and uses a table" starts a second one.
DEMAND_VERBS = frozenset((
    "acknowledges", "addresses", "advises", "asks", "calculates", "cites", "clarifies", "compares",
    "concludes", "defines", "derives", "describes", "discusses", "explains", "gives", "identifies",
    "includes", "justifies", "lists", "mentions", "names", "notes", "offers", "outlines", "presents",
    "proposes", "provides", "quotes", "recommends", "shows", "specifies", "states", "suggests",
    "summarises", "summarizes", "tells", "uses", "warns"
))
_VERB = r"(?:" + "|".join(sorted(DEMAND_VERBS)) + r")"
# A second clause: ", and explains", " and also lists", "; states", "; and gives" (optionally "it also").
_SECOND_CLAUSE = re.compile(
    rf"(?:,?\s+and\s+(?:then\s+|also\s+)?|;\s*(?:and\s+)?(?:also\s+)?)(?:it\s+)?(?:also\s+)?({_VERB})\b",
    re.IGNORECASE)
# A relative pronoun before the second verb means it belongs to a noun ("a tool which lists files and
# shows sizes"), not to the response.
_RELATIVE = re.compile(r"\b(?:which|who|whose)\b", re.IGNORECASE)
# Sentence ends: a full stop, ! or ? followed by a capital, except after abbreviations and initials.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|approx|Dr|Mr|Mrs|Ms|St|No|Fig|Eq|Sec)\.|"
                           r"\b[A-Z]\.)$")
_MODAL = re.compile(r"\b(?:must|should)\b", re.IGNORECASE)
# A later sentence that opens a demand of its own: "Also lists …", "Additionally, includes …".
_DEMAND_START = re.compile(rf"^(?:(?:also|additionally|further(?:more)?|then),?\s+)?"
                           rf"(?:it\s+|the\s+response\s+)?(?:also\s+)?{_VERB}\b", re.IGNORECASE)


def word_count(text: str) -> int:
    return len(text.split())


def phrase_span(text: Text, start: int, end: int) -> Span:
    """The span of text.value[start:end] when the text is one bare line written as stored; otherwise
    (block text, or text the lexer trimmed) the whole text, which is still the right line."""
    span = text.span
    fits = not text.block and span.line == span.end_line and span.end_column - span.column == len(text.value)
    if not fits:
        return span
    return Span(span.line, span.column + start, span.line, span.column + end, span.path)


def _judged(item: Item) -> bool:
    """Items the judge reads as one statement: not groups (context) or scales (their levels decide)."""
    return item.kind not in ("group", "scale")


def hash_in_text(ctx: LintContext) -> Iterator[Diagnostic]:
    """Item text that starts with `#`.

    Why: a `#` after an item's colon is text, not a comment (criteria quote things like "Item #3"), so
    `hard x: # TODO` is a criterion whose whole text is "# TODO" and the judge will be asked about it.
    Instead: write the criterion's text, and put notes on their own comment line above the item.
    """
    for _, item in ctx.written_items():
        if item.text.value.startswith("#"):
            yield warning("W101", item.text.span, "item text starts with `#`; it is text, not a comment",
                          "write the criterion, and put notes on a comment line above the item")


def _sentences(text: str) -> list[str]:
    parts: list[str] = []
    for piece in _SENTENCE_END.split(text):
        if parts and _ABBREVIATION.search(parts[-1]):
            parts[-1] += " " + piece  # "Smith et al. Table 2" is one sentence
        else:
            parts.append(piece)
    return parts


def _second_demand(text: str) -> re.Match[str] | None:
    """The second clause's verb in "Explains X and states Y", when the text opens with a demand verb."""
    body = _SUBJECT.sub("", text, count=1)
    first = body.split(maxsplit=1)
    if len(first) < 2 or first[0].lower() not in DEMAND_VERBS:
        return None
    match = _SECOND_CLAUSE.search(text, len(text) - len(body) + len(first[0]) + 1)
    if match is None or _RELATIVE.search(text, 0, match.start()):
        return None
    return match


def compound_criterion(ctx: LintContext) -> Iterator[Diagnostic]:
    """A criterion that makes two demands at once.

    Flagged when the text opens with a demand verb and a second clause joined by "and", "and also" or ";"
    opens with another ("Explains the cause and lists the fixes"), or when a later sentence makes a demand of
    its own (it opens with a demand verb, as in "Also lists …", or says "must"/"should"). Noun phrases
    joined by "and" ("names both options, --since and --legacy-output") are one demand and are not
    flagged.
    Why: the judge gives one verdict per item, so a response that meets half the criterion gets all or none
    of its weight, and the verdicts stop telling you what the response got right.
    Instead: split it into two items, each with its own name and weight.
    """
    for _, item in ctx.written_items():
        if not _judged(item) or item.check is not None:
            continue
        text = item.text.value
        match = _second_demand(text)
        if match is not None:
            yield warning("W104", phrase_span(item.text, match.start(1), match.end(1)),
                          f"criterion makes a second demand (`{match.group(1)}`)",
                          "split it into two items so each demand gets its own verdict")
            continue
        later = _sentences(text)[1:]
        if any(_MODAL.search(sentence) or _DEMAND_START.match(sentence) for sentence in later):
            yield warning("W104", item.text.span, "criterion has several sentences that each make a demand",
                          "split it into one item per demand")


_PRAISE_START = re.compile(r"^(?:avoids|refrains\s+from|steers\s+clear\s+of|abstains\s+from"
                           r"|is\s+free\s+(?:of|from)|stays\s+free\s+of|correctly|accurately|properly)\b",
                           re.IGNORECASE)
# Words for a fault: "contains no factual errors", "does not include irrelevant details".
_FAULT = (r"(?:errors?|mistakes?|inaccura\w*|hallucinat\w*|fabricat\w*|false|incorrect|unsupported|harmful"
          r"|offensive|typos?|misleading|irrelevant|unnecessary|biased|jargon|contradictions?|redundan\w*)")
_NEGATED_FAULT = re.compile(
    r"^(?:(?:does\s+not|doesn't|never)\s+(?:make|contain|include|introduce|use|have|add|give|provide)"
    rf"|(?:contains|makes|has|includes|uses|gives)\s+no)\s+(?:any\s+)?(?:\w+\s+){{0,2}}?{_FAULT}\b"
    r"|^(?:does\s+not|doesn't|never)\s+(?:claim|assert|fabricate|hallucinate|invent|misstate|misrepresent"
    r"|misidentify|lecture|moralize|moralise|contradict|exaggerate|overstate|reveal|disclose|leak|promise)\b",
    re.IGNORECASE)
# "No mention of X" or "No code is given" is an omission, which is a fine pitfall; "No factual errors"
# praises the response.
_NO_FAULT = re.compile(rf"^no\s+(?:\w+\s+){{0,2}}?{_FAULT}\b", re.IGNORECASE)


def inverted_pitfall(ctx: LintContext) -> Iterator[Diagnostic]:
    """A pitfall whose text describes the desirable behaviour.

    Flagged for pitfalls (and negative-weight `criterion` items) that open with "avoids", "refrains from",
    "is free of", "correctly", "No" with a fault ("No factual errors"), "contains no errors", "does not make
    errors", or "does not" with a verb of commission ("does not claim", "does not fabricate", …).
    Omissions such as "Does not mention X" are real mistakes and are not flagged.
    Why: a pitfall HOLDS when the mistake was made, and holding costs points. "The response avoids jargon"
    holds for good responses, so the pitfall penalises exactly the responses it meant to reward. Rubrics
    imported from RaR data sets mix both conventions, so this is a common conversion slip.
    Instead: state the mistake itself ("Uses unexplained jargon", "States that …"), or make the item a
    positive criterion.
    """
    for _, item in ctx.written_items():
        weight = item.effective_weight
        if item.kind != "pitfall" and not (item.kind == "criterion" and weight is not None and weight < 0):
            continue
        body = _SUBJECT.sub("", item.text.value.strip(), count=1)
        if _PRAISE_START.match(body) or _NEGATED_FAULT.match(body) or _NO_FAULT.match(body):
            yield warning("W105", item.text.span, "pitfall text describes the desirable behaviour",
                          "a pitfall holds when the mistake is made: state the mistake (\"States that …\")")


_VAGUE = re.compile(
    r"\b(?:good|appropriate(?:ly)?|proper(?:ly)?|adequate(?:ly)?|nice(?:ly)?|reasonabl[ey]|high[- ]quality"
    r"|clear|well[- ](?:written|structured|organi[sz]ed|explained|reasoned|presented|formatted)"
    r"|sufficient(?:ly)?|satisfactor(?:y|ily)|suitabl[ey]|decent|helpful|relevant|thorough(?:ly)?"
    r"|comprehensive(?:ly)?)\b", re.IGNORECASE)
# Anything that gives the judge something to look for: a number, a quotation, an example, a name.
_ANCHOR = re.compile(r"\d|[\"“`(:]|\b(?:such as|e\.g|for example|for instance|including|namely|like"
                     r"|one|two|three|four|five|six|seven|eight|nine|ten|each|every)\b", re.IGNORECASE)
_PROPER_NOUN = re.compile(r"(?<=\w)\s+[A-Z][a-z]")
_FILLER = frozenset((
    "a", "an", "the", "is", "are", "be", "and", "or", "of", "to", "in", "on", "for", "with", "its",
    "it", "that", "this", "response", "reply", "answer", "essay", "output", "text", "very"
))
_MAX_CONTENT_WORDS = 4


def _vague_match(text: str) -> re.Match[str] | None:
    match = _VAGUE.search(text)
    if match is None or _ANCHOR.search(text) or _PROPER_NOUN.search(text):
        return None
    words = [w for w in re.findall(r"[a-z]+(?:-[a-z]+)*", text.lower()) if w not in _FILLER]
    content = [w for w in words if not _VAGUE.fullmatch(w)]
    return match if len(content) <= _MAX_CONTENT_WORDS else None


def vague_criterion(ctx: LintContext) -> Iterator[Diagnostic]:
    """A criterion carried by a vague quality word ("good", "appropriate", "clear", "adequate", …).

    Flagged when the text holds one of those words and nothing testable: no number, quotation, example
    ("such as", "e.g."), name, "each"/"every", and at most four other content words ("Uses appropriate
    terminology", "The response is clear and well-organized"). Principles, scales (their levels say what
    each level means) and items with a `check:` are not flagged: general qualities are what they are for.
    Why: judges disagree with each other and with people on vague criteria, and the verdict cannot be
    explained; RaR's guidance is that each criterion be checkable on its own.
    Instead: say what would make it so: which terms, which structure, what a reader must be able to do.
    """
    for _, item in ctx.written_items():
        if item.kind == "principle" or not _judged(item) or item.check is not None:
            continue
        match = _vague_match(item.text.value)
        if match is not None:
            yield warning("W110", phrase_span(item.text, match.start(), match.end()),
                          f"vague criterion: `{match.group()}` with nothing testable",
                          "say what the judge should look for: the terms, numbers or structure")


_UNSTATED = re.compile(
    r"\b(?:as\s+(?:mentioned|stated|noted|described|discussed|shown|listed|explained)\s+"
    r"(?:above|before|earlier|previously)|as\s+above|see\s+above|see\s+(?:the\s+)?previous"
    r"|(?<!of\s)the\s+above|above-mentioned|aforementioned"
    r"|(?:the\s+)?(?:previous|preceding)\s+(?:criterion|item|point|requirement)"
    r"|same\s+as\s+(?:above|before))\b",
    re.IGNORECASE)
# "the reference" alone or as "the reference answer"; "the reference gradient" or "the reference to X" is
# some other reference.
_REFERENCE = re.compile(r"\b(?:(?:the\s+)?reference\s+(?:answer|solution|response)\b"
                        r"|the\s+reference(?=\s*(?:[.,;:)]|$))|gold\s+answer\b)", re.IGNORECASE)


def _nested(declaration: Declaration) -> set[int]:
    """Items inside a group (by id): the judge sees them under their groups' texts, so "the above" there
    may well mean the group."""
    return {id(child) for item in walk_items(declaration.body) for child in walk_items(item.children)}


def _unstated(declaration: Declaration, item: Item, nested: set[int]) -> re.Match[str] | None:
    match = None if id(item) in nested else _UNSTATED.search(item.text.value)
    if match is None and declaration.kind == "rubric" and declaration.get_field("reference") is None:
        match = _REFERENCE.search(item.text.value)
    return match


def unstated_context(ctx: LintContext) -> Iterator[Diagnostic]:
    """A criterion that leans on context the judge does not see.

    Flagged: "as above", "as mentioned earlier", "see previous", "the previous criterion" (except in items
    inside a group, which the judge sees under the group's text), and — in a rubric with no `reference:` —
    "the reference answer", "gold answer", or "the reference" ending a phrase. (The prompt is not flagged:
    it may be supplied at grading time.)
    Why: items can be judged one at a time, shuffled, spliced into other rubrics with `use`, or shown in a
    different order, so "above" has no meaning; and a judge told to compare with a reference it was never
    given guesses.
    Instead: repeat what the item needs in its own text, or add the reference answer with `reference:`.
    """
    nested = {key for declaration in ctx.declarations() for key in _nested(declaration)}
    for declaration, item in ctx.written_items():
        match = _unstated(declaration, item, nested)
        if match is None:
            continue
        if _REFERENCE.fullmatch(match.group()):
            message = f"criterion refers to a reference the rubric does not give (`{match.group()}`)"
            hint = "add a `reference:` to the rubric, or say in the item what the answer must contain"
        else:
            message = f"criterion refers to text outside itself (`{match.group()}`)"
            hint = "repeat in this item what it refers to"
        yield warning("W111", phrase_span(item.text, match.start(), match.end()), message, hint)


_OBJECTIVE = re.compile(
    r"\d|[\"“`]|\b(?:exactly|at\s+(?:most|least)|more\s+than|fewer\s+than|less\s+than|between|no\s+more"
    r"|under|over|one|two|three|four|five|six|seven|eight|nine|ten|each|every|all|only|none|any|first|last"
    r"|includes?|contains?|mentions?|lists?|names?|cites?|quotes?|states?|gives?|provides?|tells?|asks?"
    r"|recommends?|refuses?|declines?|starts?|begins?|ends?|format\w*|json|yaml|markdown|html|csv|code|table"
    r"|bullets?|headings?|sections?|paragraphs?|sentences?|words?|lines?|characters?|language|english|file"
    r"|link|url|title|signature|greeting|addresses|written\s+in|correct(?:ly)?|matches|equals|compiles|runs"
    r"|valid)\b", re.IGNORECASE)


def subjective_hard_rule(ctx: LintContext) -> Iterator[Diagnostic]:
    """A hard rule with nothing objective to verify and no `check:`.

    Flagged when a `hard` item has no `check:` and its text names no number, quotation, count ("each",
    "exactly", "at most"), presence ("includes", "mentions", "states", "gives"), format, length,
    structure, language or correctness ("correct", "matches", "compiles") — for example "The response is
    helpful and polite."
    Why: a hard rule is a gate: when it fails the whole response scores `hard_fail`. A gate that depends on
    a judge's taste turns noise into zero rewards; RaR and OpenRubrics keep hard rules for explicit,
    checkable constraints.
    Instead: state the constraint that can be verified (add a `check:` where one fits), or make the quality
    an `essential` or `important` criterion.
    """
    for _, item in ctx.written_items():
        if item.kind == "hard" and item.check is None and not _OBJECTIVE.search(item.text.value):
            yield warning("W116", item.text.span, "hard rule states nothing objective to verify",
                          "state a checkable constraint (format, length, presence), or use `essential`")


def long_item(ctx: LintContext) -> Iterator[Diagnostic]:
    """Item text longer than `max-words` words (60 by default; `[tool.rubricdsl.lint] max-words`).

    Why: long criteria usually hold several demands, or explanations the judge has to separate from the
    demand; both make verdicts noisier.
    Instead: keep the demand in the item; split several demands into several items; put background in the
    rubric's `reference:` or in a comment.
    """
    limit = ctx.config.max_words
    for _, item in ctx.written_items():
        count = word_count(item.text.value)
        if count > limit:
            yield warning("W117", item.text.span, f"item text has {count} words, more than {limit}",
                          "split it into several items, or move background to `reference:` or a comment")


_LABEL = re.compile(r"^(?:(?:essential|important|optional|pitfall)(?:\s+criteri(?:on|a))?"
                    r"|hard\s+rule|principle|criteri(?:on|a))\s*(?:\d+\s*)?[:\-–—]", re.IGNORECASE)


def kind_label_in_text(ctx: LintContext) -> Iterator[Diagnostic]:
    """Item text that starts with a category label such as "Essential Criteria:" or "Pitfall:".

    Why: rubrics converted from RaR data keep the label in the text. The kind keyword already says it, the
    judge reads the label as part of the statement, and a label that disagrees with the kind ("Pitfall:"
    on a positive `criterion`) hides a sign error.
    Instead: remove the label and choose the kind keyword (and weight sign) that matches it.
    """
    for _, item in ctx.written_items():
        match = _LABEL.match(item.text.value)
        if match is not None:
            label = match.group().rstrip(":-–— ").strip()
            yield warning("W119", phrase_span(item.text, 0, match.end()),
                          f"item text starts with the label `{label}`",
                          f"remove the label; the kind keyword (`{item.kind}`) already says what the item is")
