"""``python -m ikg`` runs the command line."""

from ikg.cli import app

app()
