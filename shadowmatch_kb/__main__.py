"""``python -m shadowmatch_kb`` runs the command line."""

from shadowmatch_kb.cli import main

main()
