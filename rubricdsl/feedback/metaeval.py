"""`rubric agree`: how well the judge agrees with people, per item and overall (HealthBench's meta-evaluation).

Every (response, item) where the judge decided and people labelled gives one pair (judge's label, person's
label) per person. Over the pooled pairs: accuracy, Cohen's kappa, and HealthBench's metric — F1 of the
positive class and F1 of the negative class with the person's label as truth (precision over the pairs where
the judge says holds, recall over those where the person does), and their mean, MF1, the headline. F1 of a
class is undefined (None) when the judge never predicts it or nobody labelled it, as in HealthBench.

When a (response, item) carries several people's labels, the same metrics compare each person with each of
the others (leave-one-out): the human–human baseline the judge should reach. HealthBench averages that over
physicians by id; here the pairs are pooled, which needs no rater ids.

Confidence intervals: a seeded percentile bootstrap over responses (pairs from one response move together,
since they are not independent), 1000 resamples by default.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from ..dataset_io import id_key

Counts = npt.NDArray[np.int64]  # (..., 4): tp, fp, fn, tn — judge (or one person) as prediction, other as truth
_BLOCK = 1 << 22


class Metric(BaseModel):
    value: float | None
    low: float | None = None
    high: float | None = None


class Agreement(BaseModel):
    pairs: int
    rows: int
    accuracy: Metric
    kappa: Metric
    f1_pos: float | None
    f1_neg: float | None
    mf1: Metric
    human: Agreement | None = None  # the leave-one-out baseline over the same responses


class AgreeReport(BaseModel):
    overall: Agreement
    items: dict[str, Agreement]  # worst MF1 first
    matched_rows: int
    results_only: int  # ids with a result and no labels
    labels_only: int
    resamples: int
    seed: int
    confidence: float = 0.95
    unlabelled_items: list[str] = Field(default_factory=list)  # judged items nobody labelled
    unjudged_items: list[str] = Field(default_factory=list)  # labelled items the judge never decided


def metrics(counts: Counts) -> dict[str, npt.NDArray[np.float64]]:
    """Accuracy, kappa, F1 of each class and MF1 from (..., 4) counts, NaN where undefined (vectorised)."""
    tp, fp, fn, tn = (counts[..., i].astype(np.float64) for i in range(4))
    n = tp + fp + fn + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        accuracy = (tp + tn) / n
        expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
        kappa = np.where(expected < 1, (accuracy - expected) / (1 - expected), np.nan)
        f1_pos = np.where((tp + fp > 0) & (tp + fn > 0), 2 * tp / (2 * tp + fp + fn), np.nan)
        f1_neg = np.where((tn + fn > 0) & (tn + fp > 0), 2 * tn / (2 * tn + fn + fp), np.nan)
    return {"accuracy": accuracy, "kappa": kappa, "f1_pos": f1_pos, "f1_neg": f1_neg, "mf1": (f1_pos + f1_neg) / 2}


def _value(x: Any) -> float | None:
    return None if not np.isfinite(x) else float(x)


def agreement(rows: Counts, *, resamples: int = 1000, seed: int = 0, confidence: float = 0.95) -> Agreement:
    """Metrics of per-response counts `rows` (R, 4), with bootstrap intervals over responses."""
    total = rows.sum(axis=0)
    point = metrics(total)
    boot: dict[str, list[npt.NDArray[np.float64]]] = {k: [] for k in ("accuracy", "kappa", "mf1")}
    if len(rows) and resamples:
        rng = np.random.default_rng(seed)
        block = max(1, min(resamples, _BLOCK // len(rows)))
        for start in range(0, resamples, block):
            idx = rng.integers(0, len(rows), size=(min(block, resamples - start), len(rows)))
            sampled = metrics(rows[idx].sum(axis=1))
            for key in boot:
                boot[key].append(sampled[key])
    tail = (1 - confidence) / 2 * 100

    def metric(key: str) -> Metric:
        value = _value(point[key])
        draws = np.concatenate(boot[key]) if boot[key] else np.empty(0)
        draws = draws[np.isfinite(draws)]
        if value is None or not draws.size:
            return Metric(value=value)
        low, high = np.percentile(draws, [tail, 100 - tail])
        return Metric(value=value, low=float(low), high=float(high))

    return Agreement(pairs=int(total.sum()), rows=int((rows.sum(axis=1) > 0).sum()), accuracy=metric("accuracy"),
                     kappa=metric("kappa"), f1_pos=_value(point["f1_pos"]), f1_neg=_value(point["f1_neg"]),
                     mf1=metric("mf1"))


def pair_counts(self_label: bool, others: Iterable[bool]) -> list[int]:
    """tp, fp, fn, tn of one label (the prediction) against each of the others (the truth)."""
    out = [0, 0, 0, 0]
    for other in others:
        out[(0 if other else 1) if self_label else (2 if other else 3)] += 1
    return out


# ------------------------------------------------------------------------------------------- reading


def judge_labels(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, bool]]:
    """id key → item → the judge's decision (holds), from GradeResult lines; undecided and group verdicts left out."""
    out: dict[str, dict[str, bool]] = {}
    for row in rows:
        labels: dict[str, bool] = {}
        for name, verdict in (row.get("verdicts") or {}).items():
            if isinstance(verdict, bool):
                labels[name] = verdict
            elif isinstance(verdict, Mapping) and verdict.get("source") != "group" \
                    and verdict.get("undecided") is None and isinstance(verdict.get("holds"), bool):
                labels[name] = verdict["holds"]
        out[id_key(row["id"])] = labels
    return out


def person_labels(value: Any, where: str) -> list[bool]:
    """One person's label (a bool, 0 or 1), a list of anonymous people's labels, or {rater: label}; None skipped."""
    values = list(value.values()) if isinstance(value, Mapping) else value if isinstance(value, list) else [value]
    out = []
    for label in values:
        if label is None:
            continue
        if isinstance(label, bool) or (isinstance(label, int) and label in (0, 1)):
            out.append(bool(label))
        else:
            raise ValueError(f"{where}: a label is true, false, 0 or 1, not {label!r}")
    return out


def human_labels(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, list[bool]]]:
    out: dict[str, dict[str, list[bool]]] = {}
    for row in rows:
        key = id_key(row["id"])
        if key in out:
            raise ValueError(f"labels: id {key} appears twice")
        given = row.get("labels")
        if not isinstance(given, Mapping):
            raise ValueError(f"labels: id {key} has no `labels` object (item → label)")
        out[key] = {name: person_labels(value, f"labels: id {key}, item {name}") for name, value in given.items()}
    return out


def read_jsonl(source: str | os.PathLike[str] | Iterable[Mapping[str, Any]], what: str) -> list[Mapping[str, Any]]:
    if not isinstance(source, (str, os.PathLike)):
        rows = list(source)
    else:
        rows = []
        with open(source, encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise ValueError(f"{source}:{number}: not valid JSON ({exc})") from None
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping) or isinstance(row.get("id"), bool) or not isinstance(row.get("id"), (str, int)):
            raise ValueError(f"{what}: row {index} is not an object with an `id` (string or integer)")
    return rows


# ------------------------------------------------------------------------------------------- the report


def agree(results: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
          labels: str | os.PathLike[str] | Iterable[Mapping[str, Any]], *, resamples: int = 1000, seed: int = 0,
          confidence: float = 0.95) -> AgreeReport:
    """Agreement of the judge's verdicts (`rubric grade` output) with people's labels, matched by id."""
    judged = judge_labels(read_jsonl(results, "results"))
    people = human_labels(read_jsonl(labels, "labels"))
    keys = [key for key in judged if key in people]
    names = sorted({n for k in keys for n in judged[k] if people[k].get(n)}, key=lambda n: _first_seen(n, keys, judged))
    judge_rows = np.zeros((len(keys), len(names), 4), dtype=np.int64)
    human_rows = np.zeros_like(judge_rows)
    for r, key in enumerate(keys):
        for c, name in enumerate(names):
            given = people[key].get(name) or []
            if name not in judged[key] or not given:
                continue
            judge_rows[r, c] = pair_counts(judged[key][name], given)
            for i, label in enumerate(given):
                human_rows[r, c] += np.asarray(pair_counts(label, given[:i] + given[i + 1:]), dtype=np.int64)

    def block(judge: Counts, human: Counts) -> Agreement:
        result = agreement(judge[judge.sum(axis=1) > 0], resamples=resamples, seed=seed, confidence=confidence)
        humans = human[human.sum(axis=1) > 0]
        baseline = agreement(humans, resamples=resamples, seed=seed, confidence=confidence) if len(humans) else None
        return result.model_copy(update={"human": baseline})

    items = {name: block(judge_rows[:, c], human_rows[:, c]) for c, name in enumerate(names)}
    worst = dict(sorted(items.items(), key=lambda kv: (kv[1].mf1.value is None, kv[1].mf1.value or 0.0,
                                                        kv[1].accuracy.value or 0.0)))
    unlabelled = sorted({n for k in keys for n in judged[k]} - set(names))
    unjudged = sorted({n for k in keys for n, given in people[k].items() if given} - set(names))
    return AgreeReport(overall=block(judge_rows.sum(axis=1), human_rows.sum(axis=1)), items=worst,
                       matched_rows=len(keys), results_only=sum(k not in people for k in judged),
                       labels_only=sum(k not in judged for k in people), resamples=resamples, seed=seed,
                       confidence=confidence, unlabelled_items=unlabelled, unjudged_items=unjudged)


def _first_seen(name: str, keys: list[str], judged: dict[str, dict[str, bool]]) -> tuple[int, int]:
    for r, key in enumerate(keys):
        if name in judged[key]:
            return r, list(judged[key]).index(name)
    return len(keys), 0


def render_report(report: AgreeReport) -> str:
    def m(metric: Metric) -> str:
        if metric.value is None:
            return "-"
        ci = f" [{metric.low:.3f}, {metric.high:.3f}]" if metric.low is not None and metric.high is not None else ""
        return f"{metric.value:.3f}{ci}"

    o, level = report.overall, f"{report.confidence:.0%}"
    lines = [f"responses {report.matched_rows} matched ({report.results_only} with no labels, "
             f"{report.labels_only} with no result); {o.pairs} judge–person pairs",
             f"overall: MF1 {m(o.mf1)}  accuracy {m(o.accuracy)}  kappa {m(o.kappa)}  ({level} bootstrap intervals, "
             f"{report.resamples} resamples, seed {report.seed})"]
    if o.human is not None:
        lines.append(f"human baseline (leave-one-out): MF1 {m(o.human.mf1)}  accuracy {m(o.human.accuracy)}  "
                     f"kappa {m(o.human.kappa)}  ({o.human.pairs} person–person pairs)")
    rows = [("item", "pairs", "accuracy", "kappa", "MF1", f"MF1 {level} CI", "human MF1")]
    for name, a in report.items.items():
        ci = f"[{a.mf1.low:.3f}, {a.mf1.high:.3f}]" if a.mf1.low is not None and a.mf1.high is not None else "-"
        human = "-" if a.human is None or a.human.mf1.value is None else f"{a.human.mf1.value:.3f}"
        rows.append((name, str(a.pairs), _f(a.accuracy.value), _f(a.kappa.value), _f(a.mf1.value), ci, human))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines += ["", "items, worst agreement first (rewrite these criteria first):"]
    lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if report.unlabelled_items:
        lines.append("judged but never labelled: " + ", ".join(report.unlabelled_items))
    if report.unjudged_items:
        lines.append("labelled but never decided by the judge: " + ", ".join(report.unjudged_items))
    return "\n".join(lines)


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
