"""`python -m prodspec VERB`: the same as the `prodspec` command."""

from prodspec.cli.parser import main

main()
