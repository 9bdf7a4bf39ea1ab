"""Grading a dataset through Anthropic's Message Batches API: half the price, up to a day of latency.

```python
from rubricdsl.batch import grade_dataset

run = grade_dataset(grader_or_factory, "rows.jsonl", "out.jsonl", poll_interval=60)
print(run.summary.mean, run.report.live)
```

The run has three steps. (1) Every judge request the pending rows need is built exactly as the live grader
builds it (`build_requests`: same tool schema, cache breakpoint and fenced response) and sent with the
anthropic SDK's `client.messages.batches.create`, split to stay within the API's limits; each batch id is
written to a state file next to the output (`OUT.batches.json`) as soon as it exists, so an interrupted run
resumes polling those batches instead of paying for them twice. (2) The batches are polled until they
end, and their results are fetched. (3) The local engine grades the rows, with each Anthropic judge wrapped
in a `BatchJudge` that answers from the batch results (validated with the request's reply model, as
instructor validates a live reply) and asks the live judge for the rest: `errored`, `canceled` and
`expired` results and invalid replies are re-asked live, never scored, and counted in the report. The
output, its resume rules and the summary are the local engine's own.

A request's `custom_id` is its cache key (SHA-256 of the model, the request with the fence nonce blanked,
the sampling settings and the sample index: 64 hex digits, the longest id the API takes). It names one
(row content, sample, judge), so a result can only ever answer the request it was made for: after an edit
of the input or the rubric, a stale result simply matches nothing and that request is asked again.

The package, one stage per module: `state` (the state file of batch ids), `client` (the SDK's batch
calls), `collect` (submit, poll, fetch), `results` (the results and the report), `judge` (`BatchJudge`)
and `grade` (the run from end to end).
"""

from .collect import MAX_BATCH_BYTES, MAX_BATCH_REQUESTS, BatchesPending
from .grade import BatchRun, agrade_dataset_batch, grade_dataset
from .judge import BatchJudge
from .results import BatchReport
from .state import state_path

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_REQUESTS",
    "BatchJudge",
    "BatchReport",
    "BatchRun",
    "BatchesPending",
    "agrade_dataset_batch",
    "grade_dataset",
    "state_path",
]
