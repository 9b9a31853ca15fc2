"""A small Exchange Web Services endpoint on 127.0.0.1 for the tests.

It speaks just enough EWS for exchangelib's real HTTP and SOAP code: GetFolder, CreateItem
(SendOnly, SendAndSaveCopy, SaveOnly), FindItem and GetItem by internet message id, and
SendItem. Authentication is real: NTLM through pyspnego's server side (connection-bound, so the
handler keeps per-connection state over HTTP/1.1 keep-alive) or Basic. Every HTTP request and
every message the server "delivered" is recorded, parsed from the SOAP it received, so that
tests assert on what the other side actually got.

It answers as Exchange 2016 does: a ``ServerVersionInfo`` SOAP header on every response, and
``<m:Items/>`` in the error messages of item operations. ``refuse_message_id`` makes it behave
like the Exchange versions that refuse a client-set InternetMessageId (ErrorInvalidPropertySet
per item, nothing created); the server then makes the Message-ID itself. Extended properties
are stored and can be searched for (FindItem restrictions on ExtendedFieldURI). Every SOAP
request and response body is kept (:attr:`EwsServer.exchanges`) for validation against the
EWS schema in the tests.

Faults are injected with :meth:`EwsServer.inject`: HTTP 500, 503 with Retry-After, an
ErrorServerBusy SOAP fault with BackOffMilliseconds, and a connection dropped after some items
of a request were already delivered (the client cannot know they were). A wrong password is
simply a password the user file does not hold.

The server stops itself after ``max_lifetime`` seconds, every loop is bounded, and
:meth:`EwsServer.stop` closes every connection and joins every thread.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import spnego
import spnego.channel_bindings
import spnego.exceptions

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"

FOLDERS = {"root": "Oberste Ebene", "msgfolderroot": "Informationsspeicher", "sentitems": "Gesendete Elemente",
           "outbox": "Postausgang", "drafts": "Entwürfe", "inbox": "Posteingang"}
FAULT_KINDS = ("http500", "http503", "busy", "drop")


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    content: bytes


@dataclass
class StoredMessage:
    """A message as the server understood it from the SOAP it received."""

    item_id: str
    folder: str
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    subject: str
    body: str
    sensitivity: str
    message_id: str
    attachments: tuple[Attachment, ...]
    # extended properties by name (PropertyName, else PropertyTag): the value, and the URI's attributes
    extended: dict[str, str] = field(default_factory=dict)
    extended_uri: dict[str, dict[str, str]] = field(default_factory=dict)
    message_id_from_server: bool = False  # the client's InternetMessageId was refused or missing


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the server saw it."""

    number: int
    connection: int
    operation: str | None  # SOAP operation, None for an authentication leg
    auth: str  # "none", "challenge", "ok", "failed"
    status: int | None  # None: the connection was dropped without an answer
    fault: str | None = None
    user: str | None = None
    items: int = 0


@dataclass
class Fault:
    """A fault to inject on the ``nth`` matching request from now on.

    ``after_items``: for CreateItem, how many of the request's items are delivered before the
    fault strikes (they are recorded; the client never hears of them).
    """

    kind: str
    operation: str = "CreateItem"
    nth: int = 1
    after_items: int = 0
    retry_after: int = 1
    back_off_ms: int = 100
    seen: int = 0
    fired: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[RecordedRequest] = field(default_factory=list)
    delivered: list[StoredMessage] = field(default_factory=list)
    folders: dict[str, list[StoredMessage]] = field(
        default_factory=lambda: {name: [] for name in FOLDERS}
    )
    faults: list[Fault] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    soap_requests: int = 0
    exchanges: list[tuple[str, bytes, bytes]] = field(default_factory=list)  # (operation, request, response)
    pending: list[tuple[int, StoredMessage, str]] = field(default_factory=list)  # (due, message, target)


def _text(elem: ET.Element | None, path: str, default: str = "") -> str:
    found = elem.find(path) if elem is not None else None
    return (found.text or "") if found is not None else default


def _addresses(elem: ET.Element, tag: str) -> tuple[str, ...]:
    container = elem.find(f"{{{T}}}{tag}")
    if container is None:
        return ()
    return tuple(_text(mb, f"{{{T}}}EmailAddress") for mb in container.findall(f"{{{T}}}Mailbox"))


def _sender(elem: ET.Element) -> str:
    author = elem.find(f"{{{T}}}From")
    return _text(author, f"{{{T}}}Mailbox/{{{T}}}EmailAddress") if author is not None else ""


class EwsServer:
    """A threaded HTTPS EWS endpoint; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        cert,
        directory: Path,
        users: dict[str, str],
        auth: str = "NTLM",
        mailbox: str = "geschaeftsstelle@kpr.example",
        max_lifetime: float = 120.0,
    ) -> None:
        if auth not in ("NTLM", "Basic"):
            raise ValueError(auth)
        self.cert = cert
        self.directory = Path(directory)
        self.users = dict(users)
        self.auth = auth
        self.mailbox = mailbox
        self.max_lifetime = max_lifetime
        self.reject_recipients: set[str] = set()  # CreateItem answers ErrorInvalidRecipients for these
        # Like some Exchange versions: a client-set InternetMessageId is refused (ErrorInvalidPropertySet).
        self.refuse_message_id = False
        # Like Exchange, a sent message first waits in the Outbox; it moves to its saved-items
        # folder only ``submit_lag`` SOAP requests later (0: at once).
        self.submit_lag = 0
        self.state = _State()
        self._ssl_context = cert.server_context()
        self._cbt_hash = hashlib.sha256(cert.der).digest()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._old_user_file: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> EwsServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        user_file = self.directory / "ntlm-users.txt"
        lines = []
        for name, password in self.users.items():
            domain, _, user = name.rpartition("\\")
            lines.append(f"{domain}:{user}:{password}")
        user_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self._old_user_file = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = str(user_file)
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, self)
        self._httpd.timeout = 0.05
        self._thread = threading.Thread(target=self._serve, name="ews-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        deadline = time.monotonic() + self.max_lifetime
        while not self._stop.is_set() and time.monotonic() < deadline:
            self._httpd.handle_request()

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self._httpd.close_connections()
        self._httpd.server_close()  # joins the handler threads
        self._httpd = None
        if self._old_user_file is None:
            os.environ.pop("NTLM_USER_FILE", None)
        else:
            os.environ["NTLM_USER_FILE"] = self._old_user_file

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"https://{host}:{port}/EWS/Exchange.asmx"

    # -- what tests look at ---------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        with self.state.lock:
            self.state.faults.append(fault)
        return fault

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def delivered(self) -> list[StoredMessage]:
        """Every message that went out to its recipients, in order, duplicates included."""
        with self.state.lock:
            return list(self.state.delivered)

    @property
    def exchanges(self) -> list[tuple[str, bytes, bytes]]:
        """(operation, request body, response body) of every SOAP request answered with HTTP 200."""
        with self.state.lock:
            return list(self.state.exchanges)

    def record_exchange(self, operation: str, request: bytes, response: bytes) -> None:
        with self.state.lock:
            self.state.exchanges.append((operation, request, response))

    def folder(self, name: str) -> list[StoredMessage]:
        with self.state.lock:
            return list(self.state.folders[name])

    def operations(self) -> list[str]:
        """The SOAP operations the server answered or dropped after authentication."""
        return [r.operation for r in self.requests if r.operation]

    def reset_records(self) -> None:
        with self.state.lock:
            self.state.requests.clear()

    # -- request processing (called from handler threads) ---------------------------------

    def new_ntlm_context(self):
        bindings = spnego.channel_bindings.GssChannelBindings(
            application_data=b"tls-server-end-point:" + self._cbt_hash
        )
        return spnego.server(
            protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm, channel_bindings=bindings
        )

    def check_basic(self, token: str) -> str | None:
        try:
            raw = base64.b64decode(token)
        except ValueError:
            return None
        # requests encodes Basic credentials as Latin-1, browsers as UTF-8; IIS accepts either.
        for encoding in ("utf-8", "latin-1"):
            try:
                user, _, password = raw.decode(encoding).partition(":")
            except UnicodeDecodeError:
                continue
            for name, expected in self.users.items():
                if user.lower() in (name.lower(), name.rpartition("\\")[2].lower()) and password == expected:
                    return name
        return None

    def record(self, **kwargs) -> None:
        with self.state.lock:
            self.state.requests.append(RecordedRequest(number=len(self.state.requests) + 1, **kwargs))

    def take_fault(self, operation: str) -> Fault | None:
        with self.state.lock:
            for fault in self.state.faults:
                if fault.fired or fault.operation != operation:
                    continue
                fault.seen += 1
                if fault.seen == fault.nth:
                    fault.fired = True
                    return fault
        return None

    def process(self, body: bytes, fault: Fault | None) -> tuple[str, int, list[str]]:
        """Answer one SOAP request: (operation, items delivered or stored, response messages)."""
        with self.state.lock:
            self.state.soap_requests += 1
            now = self.state.soap_requests
            due = [entry for entry in self.state.pending if entry[0] <= now]
            self.state.pending = [entry for entry in self.state.pending if entry[0] > now]
            for _, message, target in due:
                self.state.folders["outbox"].remove(message)
                message.folder = target
                self.state.folders[target].append(message)
        root = ET.fromstring(body)
        request = root.find(f"{{{SOAP}}}Body")[0]
        operation = request.tag.rpartition("}")[2]
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            raise ValueError(f"operation {operation} not supported by the test server")
        return handler(request, fault)

    def _new_id(self, prefix: str) -> str:
        with self.state.lock:
            number = next(self.state.ids)
        return base64.b64encode(f"{prefix}-{number}".encode()).decode()

    def _folder_name(self, elem: ET.Element) -> str:
        if elem.tag == f"{{{T}}}DistinguishedFolderId":
            return elem.get("Id")
        folder_id = base64.b64decode(elem.get("Id")).decode()
        return folder_id.removeprefix("folder-")

    def _op_GetFolder(self, request: ET.Element, fault) -> tuple[str, int, list[str]]:
        messages = []
        for elem in request.find(f"{{{M}}}FolderIds"):
            name = self._folder_name(elem)
            folder_id = base64.b64encode(f"folder-{name}".encode()).decode()
            messages.append(
                '<m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
                f'<m:Folders><t:Folder><t:FolderId Id="{folder_id}" ChangeKey="AQAAAA=="/>'
                f"<t:FolderClass>IPF.Note</t:FolderClass><t:DisplayName>{escape(FOLDERS.get(name, name))}"
                "</t:DisplayName></t:Folder></m:Folders></m:GetFolderResponseMessage>"
            )
        return "GetFolder", 0, messages

    def _parse_message(self, elem: ET.Element, folder: str) -> StoredMessage:
        attachments = []
        container = elem.find(f"{{{T}}}Attachments")
        for att in container if container is not None else ():
            attachments.append(Attachment(
                name=_text(att, f"{{{T}}}Name"),
                content_type=_text(att, f"{{{T}}}ContentType"),
                content=base64.b64decode(_text(att, f"{{{T}}}Content")),
            ))
        extended, extended_uri = {}, {}
        for prop in elem.findall(f"{{{T}}}ExtendedProperty"):
            uri = prop.find(f"{{{T}}}ExtendedFieldURI")
            name = uri.get("PropertyName") or uri.get("PropertyTag") or uri.get("PropertyId")
            extended[name] = _text(prop, f"{{{T}}}Value")
            extended_uri[name] = dict(uri.attrib)
        item_id = self._new_id("item")
        own_id = _text(elem, f"{{{T}}}InternetMessageId")
        return StoredMessage(
            item_id=item_id,
            folder=folder,
            sender=_sender(elem),
            to=_addresses(elem, "ToRecipients"),
            cc=_addresses(elem, "CcRecipients"),
            reply_to=_addresses(elem, "ReplyTo"),
            subject=_text(elem, f"{{{T}}}Subject"),
            body=_text(elem, f"{{{T}}}Body"),
            sensitivity=_text(elem, f"{{{T}}}Sensitivity", "Normal"),
            message_id=own_id or f"<{base64.b16encode(item_id.encode()).decode().lower()}@ews.kpr.example>",
            attachments=tuple(attachments),
            extended=extended,
            extended_uri=extended_uri,
            message_id_from_server=not own_id,
        )

    def _op_CreateItem(self, request: ET.Element, fault) -> tuple[str, int, list[str]]:
        disposition = request.get("MessageDisposition", "SaveOnly")
        saved = request.find(f"{{{M}}}SavedItemFolderId")
        folder = self._folder_name(saved[0]) if saved is not None else "drafts"
        items = list(request.find(f"{{{M}}}Items"))
        limit = fault.after_items if fault is not None else len(items)
        messages = []
        stored = 0
        for count, elem in enumerate(items):
            if count == limit:
                break
            if self.refuse_message_id and elem.find(f"{{{T}}}InternetMessageId") is not None:
                messages.append(_item_error(
                    "CreateItem", "ErrorInvalidPropertySet", "Die Eigenschaft ist schreibgeschützt.",
                    '<m:MessageXml><t:FieldURI FieldURI="message:InternetMessageId"/></m:MessageXml>'))
                continue
            message = self._parse_message(elem, folder)
            if self.reject_recipients.intersection(a.lower() for a in message.to):
                messages.append(_item_error("CreateItem", "ErrorInvalidRecipients", "Ungültiger Empfänger."))
                continue
            with self.state.lock:
                if disposition in ("SendOnly", "SendAndSaveCopy"):
                    self.state.delivered.append(message)
                if disposition == "SendAndSaveCopy" and self.submit_lag:
                    message.folder = "outbox"
                    self.state.folders["outbox"].append(message)
                    self.state.pending.append((self.state.soap_requests + self.submit_lag, message, folder))
                elif disposition in ("SaveOnly", "SendAndSaveCopy"):
                    self.state.folders[folder].append(message)
            stored += 1
            if disposition == "SaveOnly":
                att_ids = "".join(
                    f'<t:FileAttachment><t:AttachmentId Id="{self._new_id("att")}"/></t:FileAttachment>'
                    for _ in message.attachments
                )
                messages.append(
                    '<m:CreateItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
                    f'<m:Items><t:Message><t:ItemId Id="{message.item_id}" ChangeKey="CQAAAA=="/>'
                    f"<t:Attachments>{att_ids}</t:Attachments></t:Message></m:Items>"
                    "</m:CreateItemResponseMessage>"
                )
            else:
                messages.append(
                    '<m:CreateItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
                    "<m:Items/></m:CreateItemResponseMessage>"
                )
        return "CreateItem", stored, messages

    def _matching(self, folder: str, wanted: set[tuple[str, str]] | None) -> list[StoredMessage]:
        with self.state.lock:
            stored = list(self.state.folders[folder])
        return [m for m in stored if wanted is None or ("message:InternetMessageId", m.message_id) in wanted
                or any((name, value) in wanted for name, value in m.extended.items())]

    @staticmethod
    def _wanted_ids(request: ET.Element) -> set[tuple[str, str]] | None:
        """(field, value) pairs of an Or of IsEqualTo: the InternetMessageId or an extended property."""
        restriction = request.find(f"{{{M}}}Restriction")
        if restriction is None:
            return None
        wanted = set()
        for equal in restriction.iter(f"{{{T}}}IsEqualTo"):
            uri = equal.find(f"{{{T}}}FieldURI")
            extended = equal.find(f"{{{T}}}ExtendedFieldURI")
            value = equal.find(f"{{{T}}}FieldURIOrConstant/{{{T}}}Constant").get("Value")
            if uri is not None and uri.get("FieldURI") == "message:InternetMessageId":
                wanted.add(("message:InternetMessageId", value))
            elif extended is not None:
                name = extended.get("PropertyName") or extended.get("PropertyTag") or extended.get("PropertyId")
                wanted.add((name, value))
            else:
                raise ValueError("test server filters only on message:InternetMessageId and extended properties")
        return wanted

    @staticmethod
    def _item_xml(message: StoredMessage) -> str:
        extended = "".join(
            "<t:ExtendedProperty><t:ExtendedFieldURI "
            + " ".join(f'{k}="{escape(v, {chr(34): "&quot;"})}"' for k, v in message.extended_uri[name].items())
            + f"/><t:Value>{escape(value)}</t:Value></t:ExtendedProperty>"
            for name, value in message.extended.items()
        )
        return (
            f'<t:Message><t:ItemId Id="{message.item_id}" ChangeKey="CQAAAA=="/>'
            f"<t:Subject>{escape(message.subject)}</t:Subject>{extended}"
            f"<t:InternetMessageId>{escape(message.message_id)}</t:InternetMessageId></t:Message>"
        )

    def _op_FindItem(self, request: ET.Element, fault) -> tuple[str, int, list[str]]:
        wanted = self._wanted_ids(request)
        view = request.find(f"{{{M}}}IndexedPageItemView")
        offset = int(view.get("Offset", "0")) if view is not None else 0
        size = int(view.get("MaxEntriesReturned", "1000")) if view is not None else 1000
        messages = []
        for elem in request.find(f"{{{M}}}ParentFolderIds"):
            found = self._matching(self._folder_name(elem), wanted)
            page = found[offset:offset + size]
            last = "true" if offset + len(page) >= len(found) else "false"
            items = "".join(self._item_xml(m) for m in page)
            messages.append(
                '<m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
                f'<m:RootFolder IndexedPagingOffset="{offset + len(page)}" TotalItemsInView="{len(found)}" '
                f'IncludesLastItemInRange="{last}"><t:Items>{items}</t:Items></m:RootFolder>'
                "</m:FindItemResponseMessage>"
            )
        return "FindItem", 0, messages

    def _by_item_id(self, item_id: str) -> StoredMessage | None:
        with self.state.lock:
            for stored in self.state.folders.values():
                for message in stored:
                    if message.item_id == item_id:
                        return message
        return None

    def _op_GetItem(self, request: ET.Element, fault) -> tuple[str, int, list[str]]:
        messages = []
        for elem in request.find(f"{{{M}}}ItemIds"):
            message = self._by_item_id(elem.get("Id"))
            if message is None:
                messages.append(_item_error("GetItem", "ErrorItemNotFound", "Element nicht gefunden."))
                continue
            messages.append(
                '<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
                f"<m:Items>{self._item_xml(message)}</m:Items></m:GetItemResponseMessage>"
            )
        return "GetItem", 0, messages

    def _op_SendItem(self, request: ET.Element, fault) -> tuple[str, int, list[str]]:
        messages = []
        sent = 0
        for elem in request.find(f"{{{M}}}ItemIds"):
            message = self._by_item_id(elem.get("Id"))
            if message is None or message.folder != "drafts":
                messages.append(_item_error("SendItem", "ErrorItemNotFound", "Element nicht gefunden."))
                continue
            with self.state.lock:
                self.state.folders["drafts"].remove(message)
                message.folder = "sentitems"
                self.state.folders["sentitems"].append(message)
                self.state.delivered.append(message)
            sent += 1
            messages.append(
                '<m:SendItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
                "</m:SendItemResponseMessage>"
            )
        return "SendItem", sent, messages


# Operations whose response messages carry the items (ItemInfoResponseMessageType): Exchange sends
# an empty <m:Items/> in their error messages too.
_ITEM_OPERATIONS = ("CreateItem", "GetItem", "UpdateItem", "CopyItem", "MoveItem")
# What Exchange 2016 CU23 reports about itself.
SERVER_VERSION = dict(MajorVersion="15", MinorVersion="1", MajorBuildNumber="2507", MinorBuildNumber="6",
                      Version="V2017_07_11")


def _item_error(operation: str, code: str, text: str, message_xml: str = "") -> str:
    items = "<m:Items/>" if operation in _ITEM_OPERATIONS else ""
    return (
        f'<m:{operation}ResponseMessage ResponseClass="Error"><m:MessageText>{escape(text)}</m:MessageText>'
        f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
        f"{message_xml}{items}</m:{operation}ResponseMessage>"
    )


def _envelope(operation: str, messages: list[str]) -> bytes:
    version = " ".join(f'{k}="{v}"' for k, v in SERVER_VERSION.items())
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{SOAP}"><s:Header><h:ServerVersionInfo xmlns:h="{T}" {version}/></s:Header>'
        f'<s:Body><m:{operation}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
        + "".join(messages)
        + f"</m:ResponseMessages></m:{operation}Response></s:Body></s:Envelope>"
    ).encode("utf-8")


def _busy_fault(back_off_ms: int) -> bytes:
    text = "The server cannot service this request right now. Try again later."
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault>'
        f'<faultcode xmlns:a="{T}">a:ErrorServerBusy</faultcode>'
        f'<faultstring xml:lang="en-US">{text}</faultstring><detail>'
        f'<e:ResponseCode xmlns:e="{E}">ErrorServerBusy</e:ResponseCode>'
        f'<e:Message xmlns:e="{E}">{text}</e:Message>'
        f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{back_off_ms}</t:Value></t:MessageXml>'
        "</detail></s:Fault></s:Body></s:Envelope>"
    ).encode()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins them
    block_on_close = True

    def __init__(self, address, handler, ews: EwsServer) -> None:
        self.ews = ews
        self.connection_numbers = itertools.count(1)
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        self.errors: list[BaseException] = []
        super().__init__(address, handler)

    def close_connections(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        # A client that refuses our certificate or goes away mid-request is part of the tests.
        self.errors.append(sys.exc_info()[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 10  # an idle keep-alive connection ends by itself
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""

    def setup(self) -> None:
        raw = self.request
        raw.settimeout(self.timeout)
        self.request = self.server.ews._ssl_context.wrap_socket(raw, server_side=True)
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.request)
        self.connection_number = next(self.server.connection_numbers)
        self.ntlm = None
        self.user = None
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            with self.server.sockets_lock:
                self.server.open_sockets.discard(self.request)
            self.request.close()

    def log_message(self, format, *args) -> None:
        pass

    # -- HTTP --------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _challenge(self, token: str | None = None) -> None:
        value = self.server.ews.auth if token is None else f"NTLM {token}"
        if value == "Basic":
            value = 'Basic realm="kpr-test"'
        self._send(401, headers={"WWW-Authenticate": value})

    def _authenticate(self) -> str:
        """Return "ok", or "challenge"/"failed" after answering 401 itself."""
        if self.user is not None:
            return "ok"  # NTLM authenticates the connection, not the request
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        ews = self.server.ews
        if scheme.lower() == "basic" and ews.auth == "Basic":
            user = ews.check_basic(token)
            if user is None:
                self._challenge()
                return "failed"
            self.request_user = user
            return "ok"
        if scheme.upper() == "NTLM" and ews.auth == "NTLM":
            data = base64.b64decode(token)
            message_type = int.from_bytes(data[8:12], "little") if len(data) >= 12 else 0
            if message_type == 1 or self.ntlm is None:
                self.ntlm = ews.new_ntlm_context()
            try:
                answer = self.ntlm.step(data)
            except spnego.exceptions.SpnegoError:
                self.ntlm = None
                self._challenge()
                return "failed"
            if not self.ntlm.complete:
                self._challenge(base64.b64encode(answer).decode())
                return "challenge"
            self.user = self.ntlm.client_principal
            return "ok"
        self._challenge()
        return "none" if not header else "failed"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        ews = self.server.ews
        self.request_user = None
        auth = self._authenticate()
        if auth != "ok":
            ews.record(connection=self.connection_number, operation=None, auth=auth, status=401)
            return
        user = self.user or self.request_user
        try:
            operation = ET.fromstring(body).find(f"{{{SOAP}}}Body")[0].tag.rpartition("}")[2]
        except (ET.ParseError, TypeError, IndexError):
            ews.record(connection=self.connection_number, operation="?", auth=auth, status=400, user=user)
            self._send(400)
            return
        fault = ews.take_fault(operation)
        kind = fault.kind if fault else None
        if kind == "http503":
            ews.record(connection=self.connection_number, operation=operation, auth=auth, status=503,
                       fault=kind, user=user)
            self._send(503, headers={"Retry-After": str(fault.retry_after)})
            return
        if kind == "busy":
            ews.record(connection=self.connection_number, operation=operation, auth=auth, status=500,
                       fault=kind, user=user)
            self._send(500, _busy_fault(fault.back_off_ms))
            return
        operation, items, messages = ews.process(body, fault if kind in ("http500", "drop") else None)
        if kind == "drop":
            ews.record(connection=self.connection_number, operation=operation, auth=auth, status=None,
                       fault=kind, user=user, items=items)
            self.close_connection = True
            self.request.shutdown(socket.SHUT_RDWR)
            return
        if kind == "http500":
            ews.record(connection=self.connection_number, operation=operation, auth=auth, status=500,
                       fault=kind, user=user, items=items)
            self.send_response(500)
            self.send_header("Content-Type", "text/html")
            page = b"<html><body>Internal Server Error</body></html>"
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        ews.record(connection=self.connection_number, operation=operation, auth=auth, status=200,
                   user=user, items=items)
        response = _envelope(operation, messages)
        ews.record_exchange(operation, body, response)
        self._send(200, response)


__all__ = ["Attachment", "EwsSchema", "EwsServer", "Fault", "RecordedRequest", "StoredMessage", "find_schema_dir"]


# -- validation against the EWS schema ---------------------------------------------------------------


def find_schema_dir(start: Path | None = None) -> Path | None:
    """``shared/schemas/ews-2016`` beside the worktree (or any parent), or None where it is absent."""
    here = Path(start or __file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "schemas" / "ews-2016"
        if (candidate / "messages.xsd").is_file():
            return candidate
    return None


class EwsSchema:
    """Microsoft's EWS schema (messages.xsd with types.xsd), loaded once, checking SOAP bodies and headers.

    The SOAP envelope itself is not part of it: each header entry and the body's operation element
    are validated as documents of their own.
    """

    # types.xsd uses xml:lang without importing the XML namespace's schema; these are its attributes
    # (W3C's xml.xsd, reduced to what EWS uses), so that no download is needed.
    _XML_NAMESPACE = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'targetNamespace="http://www.w3.org/XML/1998/namespace">'
        '<xs:attribute name="lang" type="xs:language"/><xs:attribute name="space" type="xs:NCName"/>'
        '<xs:attribute name="base" type="xs:anyURI"/><xs:attribute name="id" type="xs:ID"/></xs:schema>'
    )

    def __init__(self, directory: Path) -> None:
        import tempfile

        from lxml import etree

        self._etree = etree
        with tempfile.TemporaryDirectory() as scratch:
            xml_xsd = Path(scratch) / "xml.xsd"
            xml_xsd.write_text(self._XML_NAMESPACE, encoding="utf-8")
            driver = (
                '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:kpr-test:ews">'
                f'<xs:import namespace="http://www.w3.org/XML/1998/namespace" schemaLocation="{xml_xsd.as_uri()}"/>'
                f'<xs:import namespace="{M}" schemaLocation="{(directory / "messages.xsd").resolve().as_uri()}"/>'
                "</xs:schema>"
            )
            self.schema = etree.XMLSchema(etree.fromstring(driver.encode()))

    def problems(self, soap: bytes) -> list[str]:
        """What is wrong with one SOAP message; [] if every part is valid."""
        etree = self._etree
        envelope = etree.fromstring(soap)
        parts = []
        header = envelope.find(f"{{{SOAP}}}Header")
        if header is not None:
            parts.extend(header)
        body = envelope.find(f"{{{SOAP}}}Body")
        parts.extend(body if body is not None else [])
        found = []
        for part in parts:
            if part.tag == f"{{{SOAP}}}Fault":
                continue
            document = etree.ElementTree(etree.fromstring(etree.tostring(part)))
            if not self.schema.validate(document):
                found += [f"{etree.QName(part).localname}: {error.message[:300]}" for error in self.schema.error_log]
        return found
