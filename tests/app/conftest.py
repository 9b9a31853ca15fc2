"""The pre-flight tests use the send tests' demo workbook and loopback servers."""

from tests.sending.conftest import (  # noqa: F401 - fixtures
    book,
    demo_base,
    no_password_in_environment,
    server_cert,
    smtp_server,
    test_ca,
)
