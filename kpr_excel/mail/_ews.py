"""Everything that needs exchangelib, imported only when the Exchange transport opens.

``import exchangelib`` costs a few tenths of a second; the outbox and SMTP paths never pay it.
"""

from __future__ import annotations

import logging
import ssl
from contextlib import suppress

import requests.adapters
from exchangelib import (
    BASIC,
    DELEGATE,
    NTLM,
    OAUTH2,
    UTC,
    Account,
    Body,
    Configuration,
    Credentials,
    FailFast,
    FaultTolerance,
    FileAttachment,
    Mailbox,
    Message,
    Q,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.extended_properties import ExtendedProperty
from exchangelib.folders import Drafts, FolderCollection, Outbox, SentItems
from exchangelib.items import SAVE_ONLY, SEND_AND_SAVE_COPY, SEND_TO_NONE
from exchangelib.properties import DistinguishedFolderId
from exchangelib.protocol import Protocol
from exchangelib.services import CreateItem
from exchangelib.transport import AUTH_TYPE_MAP, GSSAPI, SSPI
from exchangelib.version import (
    EXCHANGE_2013,
    EXCHANGE_2013_SP1,
    EXCHANGE_2016,
    EXCHANGE_2019,
)

__all__ = [
    "BASIC",
    "DELEGATE",
    "NTLM",
    "OAUTH2",
    "SAVE_ONLY",
    "SEND_AND_SAVE_COPY",
    "SEND_KEY_FIELD",
    "UTC",
    "VERSIONS",
    "Account",
    "Body",
    "Configuration",
    "Credentials",
    "FailFast",
    "FaultTolerance",
    "FileAttachment",
    "FolderCollection",
    "Mailbox",
    "Message",
    "Q",
    "SendKey",
    "Version",
    "close_protocol",
    "create_items",
    "ews_errors",
    "known_folders",
    "oauth2_credentials",
    "open_protocol",
    "sso_auth_type",
]

VERSIONS = {
    "2013": EXCHANGE_2013,
    "2013_SP1": EXCHANGE_2013_SP1,
    "2016": EXCHANGE_2016,
    "2019": EXCHANGE_2019,
}


class SendKey(ExtendedProperty):
    """The message's send key (its planned Message-ID) as a named string property of the item.

    Exchange keeps it on the copy in Sent Items, the Outbox and Drafts, so `already_sent` can find a
    message by it where the server refused a client-set InternetMessageId
    (``ErrorInvalidPropertySet``), or where Outlook gave a draft a new Message-ID when it was sent.
    A property set of its own (a fixed GUID, not PS_PUBLIC_STRINGS) keeps the name from clashing with
    another program's property of the same name.
    """

    property_set_id = "6b1c0e5a-3f7d-4c2e-9a41-8d2f5b7e0c13"
    property_name = "KprSendKey"
    property_type = "String"


SEND_KEY_FIELD = "kpr_send_key"
with suppress(ValueError):  # registered once per process; a second import finds it there
    Message.register(SEND_KEY_FIELD, SendKey)


class _NoAuthHeaders(logging.Filter):
    """Drop exchangelib's DEBUG records that carry the HTTP request headers (Authorization)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Request headers" not in str(record.msg)


_util_log = logging.getLogger("exchangelib.util")
if not any(isinstance(f, _NoAuthHeaders) for f in _util_log.filters):
    _util_log.addFilter(_NoAuthHeaders())


class _ContextAdapter(requests.adapters.HTTPAdapter):
    """An HTTP adapter whose connections use one given SSL context."""

    def __init__(self, ssl_context: ssl.SSLContext | None, **kwargs) -> None:
        self._ssl_context = ssl_context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(*args, **kwargs)


class _TrustedProtocol(Protocol):
    """exchangelib's Protocol, with TLS verified through our SSL context and our timeout.

    exchangelib picks its HTTP adapter from a class attribute shared by every Protocol; this
    subclass mounts its own adapter on each session it creates instead of changing that global.
    """

    ssl_context: ssl.SSLContext | None = None

    def create_session(self):
        session = super().create_session()
        adapter = _ContextAdapter(
            self.ssl_context,
            pool_block=True,
            pool_connections=self.CONNECTIONS_PER_SESSION,
            pool_maxsize=self.CONNECTIONS_PER_SESSION,
            max_retries=0,
        )
        session.mount(self.service_endpoint, adapter)
        return session


def open_protocol(config: Configuration, ssl_context: ssl.SSLContext, timeout: float) -> Protocol:
    """A fresh protocol for ``config`` that Account(config=...) will pick up.

    exchangelib caches protocols by (endpoint, credentials) and Account() takes the cached one;
    dropping any earlier entry first makes sure this transport's TLS context and retry policy
    are the ones in use.
    """
    close_protocol(config)
    protocol = _TrustedProtocol(config=config)
    protocol.ssl_context = ssl_context
    protocol.TIMEOUT = timeout
    return protocol


def close_protocol(config: Configuration, protocol: Protocol | None = None) -> None:
    """Close the cached protocol for ``config`` (only ``protocol`` if given) and forget it."""
    with suppress(KeyError):
        cached, _ = Protocol[config]
        if protocol is not None and cached is not protocol:
            return
        if not isinstance(cached, Exception):
            cached.close()
        del Protocol[config]


def sso_auth_type() -> str | None:
    """The single sign-on auth type usable here: SSPI (Windows), else Kerberos, else None."""
    if SSPI in AUTH_TYPE_MAP:
        return SSPI
    if GSSAPI in AUTH_TYPE_MAP:
        return GSSAPI
    return None


def oauth2_credentials(access_token: str):
    """Credentials that use an access token obtained elsewhere (e.g. by an MSAL login)."""
    from exchangelib.credentials import OAuth2AuthorizationCodeCredentials
    from oauthlib.oauth2 import OAuth2Token

    return OAuth2AuthorizationCodeCredentials(
        access_token=OAuth2Token({"access_token": access_token, "token_type": "Bearer"})
    )


class _CreateItemPerItemErrors(CreateItem):
    """CreateItem that hands back every per-item error as a value instead of raising it.

    exchangelib raises most per-item errors (e.g. ErrorInvalidRecipients) while reading the
    response: the confirmations of the items after the failing one are lost, and for a per-item
    ErrorServerBusy it would retry the whole chunk, sending its other messages a second time.
    Request-level faults (SOAP faults, HTTP 503, dropped connections) still raise and are
    retried or reported as before.
    """

    ERRORS_TO_CATCH_IN_RESPONSE = (ews_errors.ResponseMessageError, *CreateItem.ERRORS_TO_CATCH_IN_RESPONSE)


def create_items(account: Account, folder, items: list, message_disposition: str) -> list:
    """One CreateItem request for ``items``: a list with True/an item or an exception per item."""
    service = _CreateItemPerItemErrors(account=account, chunk_size=len(items))
    return list(
        service.call(
            items=items,
            folder=folder,
            message_disposition=message_disposition,
            send_meeting_invitations=SEND_TO_NONE,
        )
    )


def known_folders(account: Account) -> dict[str, object]:
    """Sent Items, Outbox and Drafts addressed by their well-known names, without a request.

    ``account.sent`` would cost a GetFolder each; EWS accepts a DistinguishedFolderId wherever
    a folder id is expected, so once the root is known (the login check) nothing more is asked.
    """
    root = account.root
    mailbox = Mailbox(email_address=account.primary_smtp_address)
    return {
        name: cls(root=root, _distinguished_id=DistinguishedFolderId(id=cls.DISTINGUISHED_FOLDER_ID, mailbox=mailbox))
        for name, cls in (("sent", SentItems), ("outbox", Outbox), ("drafts", Drafts))
    }
