"""``python -m suite`` = the ``suite`` command."""

from suite.cli import main

main()
