"""``ciflow drill``: the pipeline at volume under faults on every side, checked against the emulator's records."""

from ._cli import add_drill_parser, run_drill_command

__all__ = ["add_drill_parser", "run_drill_command"]
