"""`python -m rubricdsl` runs the `rubric` command."""

from .cli import main

main()
