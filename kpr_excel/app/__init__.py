"""The jobs a command or a button calls (check, demo, report), and the presenters of their results."""
