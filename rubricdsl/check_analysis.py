"""Static analysis of check expressions: can a check never hold, or always hold, whatever the response?

Used by the linter (W115). Predicates are independent unknowns and each measure an independent
non-negative integer, so a verdict of "never" or "always" is sound.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from typing import Literal, cast

from .checks import COMPARISONS
from .syntax import AllOf, AnyOf, CheckExpr, Comparison, Not, RegexTest, TextTest

Satisfiability = Literal["never", "always"]


_MAX_CASES = 4096
_Env = dict[object, object]


def satisfiability(expr: CheckExpr) -> Satisfiability | None:
    """"never" when no response can satisfy the check, "always" when every response does, None when unsure.

    Predicates are treated as independent unknowns and each measure as an independent non-negative integer;
    that admits more cases than real responses have, so a verdict of never or always is sound. When the
    cases are too many to enumerate, sub-expressions are judged separately (weaker, still sound).
    """
    cases = _cases(expr)
    if cases is None:
        return _by_parts(expr)
    seen: set[bool] = set()
    for env in cases:
        seen.add(_abstract(expr, env))
        if len(seen) == 2:
            return None
    return "always" if True in seen else "never"


def _cases(expr: CheckExpr) -> Iterator[_Env] | None:
    """Every assignment of the check's unknowns, or None when there are more than _MAX_CASES."""
    samples: dict[str, set[int]] = {}
    unknowns: list[object] = []
    for atom in _atoms(expr):
        if isinstance(atom, Comparison):
            # Every comparison is constant between these points, so one sample per region decides all.
            values = {atom.value - 1, atom.value, atom.value + 1}
            samples.setdefault(atom.measure, {0}).update(v for v in values if v >= 0)
        elif _constant(atom) is None and _atom_key(atom) not in unknowns:
            unknowns.append(_atom_key(atom))
    count = 2 ** len(unknowns)
    for values in samples.values():
        count *= len(values)
    if count > _MAX_CASES:
        return None
    names = list(samples)
    return (
        dict(zip(names + unknowns, (*numbers, *bits), strict=True))
        for numbers in product(*(sorted(samples[n]) for n in names))
        for bits in product((False, True), repeat=len(unknowns))
    )


def _atoms(expr: CheckExpr) -> list[CheckExpr]:
    if isinstance(expr, (AllOf, AnyOf)):
        return [atom for op in expr.operands for atom in _atoms(op)]
    if isinstance(expr, Not):
        return _atoms(expr.operand)
    return [expr]


def _atom_key(atom: CheckExpr) -> object:
    """Atoms that test the same thing share one unknown, so `x and not x` is seen to be a contradiction."""
    if isinstance(atom, TextTest):
        return ("text", atom.op, atom.value.casefold() if atom.ignorecase else atom.value, atom.ignorecase)
    if isinstance(atom, RegexTest):
        return ("regex", atom.pattern, "".join(sorted(set(atom.flags))))
    return ("json",)


def _constant(atom: CheckExpr) -> bool | None:
    """Predicates that hold for every response: an empty string or an empty regex is found in any text."""
    if isinstance(atom, TextTest) and not atom.value:
        return True
    if isinstance(atom, RegexTest) and not atom.pattern:
        return True
    return None


def _abstract(expr: CheckExpr, env: _Env) -> bool:
    if isinstance(expr, AllOf):
        return all(_abstract(op, env) for op in expr.operands)
    if isinstance(expr, AnyOf):
        return any(_abstract(op, env) for op in expr.operands)
    if isinstance(expr, Not):
        return not _abstract(expr.operand, env)
    if isinstance(expr, Comparison):
        return COMPARISONS[expr.op](cast(int, env[expr.measure]), expr.value)
    constant = _constant(expr)
    return constant if constant is not None else bool(env[_atom_key(expr)])


def _by_parts(expr: CheckExpr) -> Satisfiability | None:
    if isinstance(expr, Not):
        inner = satisfiability(expr.operand)
        return None if inner is None else ("always" if inner == "never" else "never")
    if not isinstance(expr, (AllOf, AnyOf)):
        return None
    # An `and` fails if any part fails, an `or` holds if any part holds; the measure-only parts are also
    # judged together, which catches `words > 10 and words < 5` among many other conjuncts.
    decisive: Satisfiability = "never" if isinstance(expr, AllOf) else "always"
    neutral: Satisfiability = "always" if isinstance(expr, AllOf) else "never"
    numeric = tuple(op for op in expr.operands if all(isinstance(a, Comparison) for a in _atoms(op)))
    # (Only a strict subset: judging all operands together is what was too big to begin with.)
    if 1 < len(numeric) < len(expr.operands) and satisfiability(type(expr)(numeric)) == decisive:
        return decisive
    parts = [satisfiability(op) for op in expr.operands]
    if decisive in parts:
        return decisive
    return neutral if all(part == neutral for part in parts) else None
