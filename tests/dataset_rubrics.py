"""The rubric the dataset-engine tests (local, Ray, batches, OpenAI judges, the CLI) all grade: one check
decided offline, three items for the judge, so every engine's output can be compared row for row."""

JUDGED = """rubric judged:
    title: Judged
    hard short: At most 30 words.
        check: words <= 30
    essential 3 accurate: The answer is accurate.
    optional polite: The answer is polite.
    pitfall rambles: The answer rambles.
"""
