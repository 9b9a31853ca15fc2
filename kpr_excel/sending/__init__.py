"""Sending: who gets which version (plan), the send job, dispatch through the send log, calendar entries."""
