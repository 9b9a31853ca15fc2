"""The Exchange transport: Exchange Web Services through exchangelib.

Choices, with their reasons (measured facts in ``notes/exchange.md``):

- No autodiscover: the EWS URL and the Exchange version come from the settings, so opening an
  account costs no request at all.
- Login is validated first with exchangelib's fail-fast policy (one GetFolder). exchangelib's
  fault-tolerant policy treats HTTP 401 as throttling and would retry a wrong password until its
  wait limit; only after a successful login does the transport switch to
  ``FaultTolerance(max_wait=...)`` with a small limit, which honours Retry-After and
  BackOffMilliseconds.
- Sending: CreateItem with SendAndSaveCopy (what ``bulk_create`` does), one request per chunk;
  ``on_sent`` is called per chunk once the server confirmed it; per-item refusals come back as
  values, so one bad address neither hides the other confirmations nor triggers a resend.
  Draft mode saves into Drafts (SaveOnly) for review in Outlook instead.
- The Message-ID header is the send key. It goes to the server twice: as the item's
  InternetMessageId and as a named extended property of our own (``_ews.SendKey``). Exchange
  2013/2016 usually accept a client-set InternetMessageId; some versions answer
  ErrorInvalidPropertySet per item (exchangelib issue 619). Such an item was not created, so the
  transport sends it again at once without the InternetMessageId (the server then makes its own)
  and keeps doing so for the rest of the run; the extended property still carries the key.
  It also survives where Outlook gives a draft a new Message-ID when the office sends it.
- ``already_sent`` asks Sent Items and the Outbox (and Drafts in draft mode) for the keys in one
  FindItem per 50 keys, matching the InternetMessageId or the extended property (plus GetItem
  for the hits), so a run that broke while a request was in flight can be resumed without
  duplicates.
- Folders are addressed by their well-known names: opening costs one GetFolder (the login
  check), sending one CreateItem per chunk.
- TLS is verified against the operating system's trust store (truststore), plus an optional CA
  bundle.

exchangelib is imported on ``open()`` only.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Sequence
from email.message import EmailMessage
from typing import Any

from kpr_excel.domain.errors import KprError
from kpr_excel.mail.base import (
    OnSent,
    Transport,
    TransportError,
    TransportKind,
    TransportSettings,
    addresses,
    attachments,
    is_certificate_error,
    message_id,
    recipients_text,
    require,
    sensitivity,
    text_body,
    trusted_ssl_context,
)

AUTH_METHODS = ("NTLM", "Basic", "OAuth2", "SSO")
DEFAULT_MAX_WAIT = 30.0  # seconds exchangelib may spend waiting for a busy server, in total per request
_LOOKUP_CHUNK = 50  # Message-IDs per FindItem restriction


class ExchangeTransport(Transport):
    """Sends (or saves drafts) through one mailbox on an Exchange server via EWS."""

    name = "exchange"

    def __init__(
        self,
        ews_url: str,
        mailbox: str,
        *,
        username: str | None = None,
        password: str | None = None,
        auth: str = "NTLM",
        version: str = "2016",
        chunk_size: int = 10,
        ca_bundle=None,
        draft: bool = False,
        timeout: float = 60,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        super().__init__()
        if auth not in AUTH_METHODS:
            raise KprError(f"Unbekannte Anmeldeart {auth!r} für Exchange; möglich sind: {', '.join(AUTH_METHODS)}.")
        if chunk_size < 1:
            raise KprError("Die Paketgröße (chunk_size) für Exchange muss mindestens 1 sein.")
        self.ews_url = ews_url
        self.mailbox = mailbox
        self.username = username or None
        self._password = password
        self.auth = auth
        self.version = version
        self.chunk_size = chunk_size
        self.ca_bundle = ca_bundle
        self.draft = draft
        self.timeout = timeout
        self.max_wait = max_wait
        # Set by open(), None while closed: the _ews module and exchangelib objects (untyped).
        self._ews: Any = None
        self._config: Any = None
        self._protocol: Any = None
        self._account: Any = None
        self._folders: Any = None
        self._folder: Any = None
        # Set once this server refused a client-set InternetMessageId: later items go without it.
        self.message_id_refused = False

    def __repr__(self) -> str:
        return f"ExchangeTransport({self.ews_url!r}, {self.mailbox!r}, username={self.username!r}, auth={self.auth!r})"

    # -- opening ------------------------------------------------------------------------------

    def _credentials(self, ews):
        """(exchangelib auth type, credentials) for the configured method; German errors."""
        if self.auth in ("NTLM", "Basic"):
            if not self.username or not self._password:
                raise TransportError(
                    f"Für die Anmeldung am Exchange-Server ({self.auth}) fehlen Benutzername oder Passwort."
                )
            return (ews.NTLM if self.auth == "NTLM" else ews.BASIC), ews.Credentials(self.username, self._password)
        if self.auth == "OAuth2":
            if importlib.util.find_spec("requests_oauthlib") is None:
                raise TransportError(
                    "Anmeldung mit OAuth2 ist nicht möglich: das Paket requests-oauthlib ist nicht installiert."
                )
            if not self._password:
                raise TransportError("Für OAuth2 fehlt das Zugriffstoken (wird wie ein Passwort hinterlegt).")
            return ews.OAUTH2, ews.oauth2_credentials(self._password)
        auth_type = ews.sso_auth_type()
        if auth_type is None:
            raise TransportError(
                "Die Windows-Anmeldung (SSO) ist hier nicht möglich: dafür wird das Paket "
                "requests-negotiate-sspi (Windows) oder requests-gssapi (Kerberos) benötigt."
            )
        return auth_type, None

    def open(self) -> None:
        if self._is_open:
            return
        if "@" not in (self.mailbox or ""):
            raise TransportError(f"Das Postfach {self.mailbox!r} ist keine gültige E-Mail-Adresse.")
        from kpr_excel.mail import _ews as ews

        build = ews.VERSIONS.get(str(self.version).removeprefix("Exchange").strip())
        if build is None:
            raise TransportError(
                f"Unbekannte Exchange-Version {self.version!r}; möglich sind: {', '.join(ews.VERSIONS)}."
            )
        auth_type, credentials = self._credentials(ews)
        config = ews.Configuration(
            service_endpoint=self.ews_url,
            credentials=credentials,
            auth_type=auth_type,
            version=ews.Version(build=build),
            retry_policy=ews.FailFast(),
            max_connections=1,
        )
        protocol = ews.open_protocol(config, trusted_ssl_context(self.ca_bundle), self.timeout)
        try:
            account = ews.Account(
                primary_smtp_address=self.mailbox,
                config=config,
                autodiscover=False,
                access_type=ews.DELEGATE,
                default_timezone=ews.UTC,
            )
            account.protocol = protocol
            account.root  # noqa: B018 - one GetFolder: checks URL, certificate and login, fail-fast
            config.retry_policy = ews.FaultTolerance(max_wait=self.max_wait)
            folders = ews.known_folders(account)
        except Exception as e:
            ews.close_protocol(config, protocol)
            if not _is_ews_failure(e, ews):
                raise
            raise TransportError(self._explain(e, ews)) from e
        self._ews, self._config, self._protocol = ews, config, protocol
        self._account, self._folders = account, folders
        self._folder = folders["drafts"] if self.draft else folders["sent"]
        super().open()

    def close(self) -> None:
        if self._config is not None:
            self._ews.close_protocol(self._config, self._protocol)
        self._config = self._protocol = self._account = self._folder = self._folders = None
        super().close()

    # -- sending ------------------------------------------------------------------------------

    def _item(self, message: EmailMessage, *, with_message_id: bool = True):
        ews = self._ews
        key = message_id(message)

        def mailboxes(header: str) -> list:
            return [ews.Mailbox(name=name or None, email_address=addr) for name, addr in addresses(message, header)]

        authors = mailboxes("From")
        return ews.Message(
            account=self._account,
            folder=self._folder,
            author=authors[0] if authors else None,
            to_recipients=mailboxes("To"),
            cc_recipients=mailboxes("Cc") or None,
            reply_to=mailboxes("Reply-To") or None,
            subject=str(message.get("Subject", "")),
            body=ews.Body(text_body(message)),
            sensitivity=sensitivity(message),
            message_id=key if with_message_id else None,
            **{ews.SEND_KEY_FIELD: key},
            attachments=[
                ews.FileAttachment(name=name, content=content, content_type=content_type)
                for name, content_type, content in attachments(message)
            ],
        )

    def _send(self, messages: Sequence[EmailMessage], on_sent: OnSent) -> int:
        ews = self._ews
        disposition = ews.SAVE_ONLY if self.draft else ews.SEND_AND_SAVE_COPY
        sent = 0
        failed: dict[str, str] = {}

        def create(chunk: Sequence[EmailMessage]) -> list:
            items = [self._item(m, with_message_id=not self.message_id_refused) for m in chunk]
            try:
                return ews.create_items(self._account, self._folder, items, disposition)
            except Exception as e:
                if not _is_ews_failure(e, ews):
                    raise
                raise TransportError(
                    self._explain(e, ews)
                    + f" Bestätigt: {sent} von {len(messages)}; der Rest kann ohne Doppelungen nachgesendet werden.",
                    sent=sent, failed=failed, uncertain=True,
                ) from e

        for start in range(0, len(messages), self.chunk_size):
            chunk = messages[start:start + self.chunk_size]
            results = create(chunk)
            refused = [i for i, r in enumerate(results) if isinstance(r, ews.ews_errors.ErrorInvalidPropertySet)]
            if refused and not self.message_id_refused:
                # Not created: send those again without the InternetMessageId, the key rides along
                # in the extended property. Items of this chunk the server took are not repeated.
                self.message_id_refused = True
                again = create([chunk[i] for i in refused])
                for index, result in zip(refused, again):
                    results[index] = result
            for message, result in zip(chunk, results):
                if isinstance(result, Exception):
                    failed[message_id(message)] = (
                        f"Exchange hat die Nachricht an {recipients_text(message)} abgelehnt: "
                        f"{_item_reason(result, ews)}."
                    )
                    continue
                on_sent(message)
                sent += 1
        if failed:
            raise TransportError(
                f"{len(failed)} Nachricht(en) wurden von Exchange abgelehnt, {sent} "
                + ("als Entwurf gespeichert." if self.draft else "gesendet."),
                sent=sent, failed=failed,
            )
        return sent

    def already_sent(self, message_ids: Iterable[str]) -> set[str]:
        wanted = sorted({str(i).strip() for i in message_ids if str(i).strip()})
        if not wanted:
            return set()
        opened_here = not self._is_open
        if opened_here:
            self.open()
        ews = self._ews
        try:
            # A message sent with SendAndSaveCopy waits in the Outbox until the server has
            # submitted it and only then appears in Sent Items: look in both.
            folders = [self._folders["sent"], self._folders["outbox"]]
            if self.draft:
                folders.append(self._folders["drafts"])
            collection = ews.FolderCollection(account=self._account, folders=folders)
            found: set[str] = set()
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                part = wanted[start:start + _LOOKUP_CHUNK]
                query = collection.filter(
                    ews.Q(message_id__in=part) | ews.Q(**{f"{ews.SEND_KEY_FIELD}__in": part})
                ).values_list("message_id", ews.SEND_KEY_FIELD)
                found.update(str(value).strip() for row in query for value in row if value)
            return found & set(wanted)
        except Exception as e:
            if not _is_ews_failure(e, ews):
                raise
            raise TransportError(
                "Exchange konnte nicht gefragt werden, welche Nachrichten schon gesendet sind: "
                + self._explain(e, ews)
            ) from e
        finally:
            if opened_here:
                self.close()

    # -- errors -------------------------------------------------------------------------------

    def _explain(self, error: BaseException, ews) -> str:
        """A German sentence for an exchangelib/requests failure; never contains the password."""
        errors = ews.ews_errors
        where = self.ews_url
        if isinstance(error, errors.UnauthorizedError):
            return (
                f"Anmeldung am Exchange-Server fehlgeschlagen: Benutzername oder Passwort falsch "
                f"(Benutzer {self.username}, {where})."
            )
        if is_certificate_error(error):
            return (
                f"Das TLS-Zertifikat des Exchange-Servers ({where}) ist nicht vertrauenswürdig; "
                "es wurde nichts gesendet."
            )
        if isinstance(error, (errors.RateLimitError, errors.ErrorServerBusy)):
            return (
                "Der Exchange-Server ist ausgelastet und hat auch nach der Wartezeit nicht angenommen. "
                "Bitte später erneut senden."
            )
        if isinstance(error, errors.ErrorTimeoutExpired):
            return f"Die Verbindung zum Exchange-Server ({where}) ist abgebrochen oder nicht möglich."
        if isinstance(error, errors.RedirectError):
            return f"Der Exchange-Server leitet auf eine andere Adresse um; bitte die EWS-Adresse prüfen ({where})."
        if isinstance(error, errors.MalformedResponseError):
            status = re.search(r"Code: (\d{3})", str(error))
            code = f" (HTTP {status.group(1)})" if status else ""
            return f"Der Exchange-Server hat mit einem Fehler geantwortet{code}."
        if isinstance(error, errors.ErrorNonExistentMailbox):
            return f"Das Postfach {self.mailbox} gibt es auf dem Exchange-Server nicht."
        if isinstance(error, errors.ErrorAccessDenied):
            return f"Kein Zugriff auf das Postfach {self.mailbox} (Benutzer {self.username})."
        return f"Fehler beim Exchange-Server ({where}): {error.__class__.__name__}."


def _item_reason(error: BaseException, ews) -> str:
    errors = ews.ews_errors
    if isinstance(error, errors.ErrorInvalidRecipients):
        return "ungültige Empfängeradresse"
    if isinstance(error, errors.ErrorMessageSizeExceeded):
        return "Nachricht zu groß"
    if isinstance(error, errors.ErrorSendAsDenied):
        return "keine Berechtigung, mit diesem Absender zu senden"
    if isinstance(error, errors.ErrorQuotaExceeded):
        return "Postfach voll"
    if isinstance(error, errors.ErrorInvalidPropertySet):
        return "der Server lehnt eine Eigenschaft der Nachricht ab, auch ohne eigene Message-ID"
    return error.__class__.__name__


def _is_ews_failure(error: BaseException, ews) -> bool:
    """True for failures of the server or the connection (not bugs in our code)."""
    import requests

    return isinstance(error, (ews.ews_errors.EWSError, requests.exceptions.RequestException, OSError))


def _login(settings: TransportSettings) -> str | None:
    return settings.username or None if settings.auth != "SSO" else None


def _check(settings: TransportSettings) -> None:
    require(settings.ews_url, "die EWS-Adresse des Exchange-Servers (ews_url)")
    require(settings.mailbox, "das Postfach (mailbox)")
    if settings.auth not in AUTH_METHODS:
        raise KprError(f"Unbekannte Anmeldeart {settings.auth!r}; möglich sind: {', '.join(AUTH_METHODS)}.")
    if settings.auth != "SSO":
        require(settings.username, "der Benutzername für Exchange (username)")


def _from_settings(settings: TransportSettings, password: str | None) -> ExchangeTransport:
    return ExchangeTransport(
        settings.ews_url or "",
        settings.mailbox or "",
        username=settings.username,
        password=password,
        auth=settings.auth,
        version=settings.exchange_version,
        chunk_size=settings.chunk_size,
        ca_bundle=settings.ca_bundle,
        draft=settings.draft,
        timeout=settings.timeout,
    )


KIND = TransportKind(
    "exchange", _from_settings, lambda settings: f"über Exchange, Postfach {settings.mailbox}", check=_check,
    login=_login)
