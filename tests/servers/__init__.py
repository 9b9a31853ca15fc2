"""Loopback servers the tests start themselves: EWS, SMTP, and the TLS material they use."""
