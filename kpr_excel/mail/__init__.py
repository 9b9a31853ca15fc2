"""Sending mail: transports (an outbox folder of .eml files, SMTP, Exchange) behind one interface.

Import from :mod:`kpr_excel.mail.transports`; nothing here imports exchangelib until an
Exchange transport is opened.
"""
