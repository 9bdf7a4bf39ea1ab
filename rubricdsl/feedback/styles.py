"""The rubric-writing recipes `rubric generate` follows: what each style asks of the model, and which kinds it may use.

- `rar` — Rubrics as Rewards (Gunjal et al., 2025): 7–20 self-contained items in four categories, Essential,
  Important, Optional and Pitfall, with weights (rubricdsl's `essential`/`important`/`optional`/`pitfall`).
- `openrubrics` — OpenRubrics (Liu et al., 2025): Hard Rules for the explicit requirements of the prompt and
  Principles for the qualities of a good answer, abstracted away from the topic (`hard` and `principle`).
  Its contrastive generation (CRG) is `--from-pairs`: a preferred and a rejected response show what matters.
- `checklist` — checklist feedback (RLCF, Viswanathan et al., 2025; TICK): atomic yes/no requirements drawn
  from the instruction, each with an importance (`criterion W`, W from 1 to 10).
"""

from __future__ import annotations

from dataclasses import dataclass

COMMON = """\
You write grading rubrics. A rubric is a list of items; a judge will later decide, for one response at a time,
whether each item's statement HOLDS for that response, seeing the task (and the reference answer, when one is
given) next to the rubric.

For every item:
- `text` is one full sentence about the response, starting with "The response", that is either true or false
  for a given response. One demand per item: never join two requirements with "and".
- Make it self-contained: name the facts, numbers, steps or constraints it expects instead of pointing at
  "the correct answer" or at context the judge will not see.
- `name` is a short snake_case label (two to four words, lowercase letters, digits and underscores).
- `kind` and `weight` follow the recipe below."""

CONTRASTIVE = """\
You are also given a preferred and a rejected response to the task. Derive the items from what distinguishes
them: what the preferred response does that the rejected one does not, and the mistakes the rejected one makes.
State every item about any response to the task: never mention "the preferred response", "the rejected
response", "response A" or these particular texts, and do not copy their wording."""


@dataclass(frozen=True)
class Style:
    name: str
    kinds: tuple[str, ...]
    recipe: str
    min_items: int = 1
    max_items: int | None = None


STYLES: dict[str, Style] = {
    "rar": Style("rar", ("essential", "important", "optional", "pitfall"), """\
Recipe (Rubrics as Rewards): write 7 to 20 items, each in one category:
- `essential`: what the response cannot do without; omitting it invalidates the answer. Weight 5.
- `important`: strongly expected content or reasoning. Weight 3 or 4.
- `optional`: nice to have; it makes a good answer better. Weight 1 or 2.
- `pitfall`: a common mistake, stated as the mistake itself ("The response claims that ..."), so that the
  statement HOLDS when the response makes the mistake. Weight -1 or -2.
Cover the key facts and reasoning an expert would check; include at least one essential item.""", 7, 20),
    "openrubrics": Style("openrubrics", ("hard", "principle"), """\
Recipe (OpenRubrics): two kinds of items.
- `hard` (Hard Rules): the explicit requirements of the task — constraints the prompt states or strictly implies
  (format, length, language, what must be included or avoided). Each must be objectively verifiable. No weight.
  Write only the rules the prompt actually asks for; never invent constraints.
- `principle` (Principles): the qualities that separate an excellent response from an adequate one, abstracted
  away from this particular topic so that they would apply to other tasks of the same kind (for example
  "The response justifies each recommendation with a reason", not a statement naming this task's content).
  Weight 1 to 3 (1 when unsure)."""),
    "checklist": Style("checklist", ("criterion",), """\
Recipe (checklist): extract from the instruction every requirement a good response meets, explicit or clearly
implied, as atomic yes/no checks.
- Every item has kind `criterion` and a weight giving its importance, from 1 (minor) to 10 (critical).
- Each item checks exactly one requirement; do not add preferences the instruction does not imply.
- Usually 3 to 12 items."""),
}

STYLE_NAMES: tuple[str, ...] = tuple(STYLES)


def instructions(style: Style, contrastive: bool) -> str:
    return "\n\n".join([COMMON, style.recipe, *([CONTRASTIVE] if contrastive else [])])
