"""The command line `prodspec VERB`: the parser (`prodspec.cli.parser`) over the verbs (`prodspec.cli.commands`)."""

from prodspec.cli.parser import main

__all__ = ["main"]
