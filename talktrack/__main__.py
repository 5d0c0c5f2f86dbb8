"""``python -m talktrack`` runs the command line."""

from talktrack.cli.main import app

app()
