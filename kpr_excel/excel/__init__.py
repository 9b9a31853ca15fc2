"""The Excel side: the ribbon buttons, the actions they run, and the message boxes and status bar."""
