"""``python -m flagpipe`` runs the command line."""

from flagpipe.cli import main

main()
