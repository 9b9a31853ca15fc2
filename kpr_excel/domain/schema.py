"""The master workbook's layout, defined once: sheets, headers, types, lists and settings.

The generator (`book.generate`), the loader and the Excel adapter all read this module; a
column is renamed or added here and nowhere else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Kind(enum.Enum):
    TEXT = "Text"
    INT = "Zahl"
    DATE = "Datum"
    TIME = "Uhrzeit"
    BOOL = "ja/nein"
    EMAIL = "E-Mail-Adresse"
    IDS = "Liste von IDs"
    FORMULA = "Formel"
    DATETIME = "Zeitpunkt"


@dataclass(frozen=True)
class Column:
    header: str
    key: str  # attribute name in the model
    kind: Kind = Kind.TEXT
    required: bool = False
    width: int = 16
    choices: tuple[str, ...] = ()  # offered as a dropdown; other values are a DATA-2 finding
    ref: str | None = None  # sheet whose ID column this column points to
    unique: bool = False
    formula: str | None = None  # for FORMULA columns: template with {row} and column letters {Datum}
    note: str = ""


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    table: str  # Excel table name
    # The field of `model.Model` this sheet's rows fill (one record per row); the record class
    # is that field's element type, and each column's `key` is a field of the record.
    records: str | None = None
    tool_owned: bool = False  # written by the tool, not read by the loader
    required: bool = True  # a workbook without it cannot be used
    description: str = ""

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    def letter(self, key: str) -> str:
        return column_letter([c.key for c in self.columns].index(key) + 1)


def column_letter(number: int) -> str:
    """Excel's letters for the 1-based column `number` (1 -> A, 27 -> AA).

    Written out here so that loading a workbook's rows does not import openpyxl, which
    every `kpr` start and every button click would pay for.
    """
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class Word(str, enum.Enum):
    """A word the workbook or the tool uses (a dropdown value, a document's name).

    It compares equal to its German text and prints as it, so a value the loader read
    (a plain str) and a member of the enum can be compared directly.
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


def words(kind: type[Word]) -> tuple[str, ...]:
    """The German texts of an enum of words, for dropdowns and messages."""
    return tuple(str(member.value) for member in kind)


class Gremium(Word):
    KPR = "KPR"
    JOUR_FIXE = "Jour fixe"
    ARBEITSGRUPPE = "Arbeitsgruppe"


class Kategorie(Word):
    MITGLIED = "Mitglied"
    VERTRETUNG = "Vertretung"
    GAST = "Gast"


class SessionStatus(Word):
    GEPLANT = "geplant"
    EINGELADEN = "eingeladen"
    DURCHGEFUEHRT = "durchgeführt"
    ABGESAGT = "abgesagt"


class Presence(Word):
    ANWESEND = "anwesend"
    VERTRETEN = "vertreten"
    ENTSCHULDIGT = "entschuldigt"
    ABWESEND = "abwesend"


class SendState(Word):
    GEPLANT = "geplant"
    WIRD_GESENDET = "wird gesendet"
    GESENDET = "gesendet"
    BEREITGESTELLT = "bereitgestellt"  # an .eml in the outbox, ready to send from Outlook
    ENTWURF = "Entwurf"
    FEHLGESCHLAGEN = "fehlgeschlagen"
    UNSICHER = "unsicher"  # was in flight when the run broke; the channel cannot say


class Role(Word):
    """How a recipient receives a document."""

    MEMBER = "Mitglied"
    DEPUTY = "Vertretung"
    GUEST = "Gast"


class DocumentKind(Word):
    """The documents the tool makes and sends; the word stands in file names and the Versand sheet."""

    INVITATION = "Einladung"
    MINUTES = "Niederschrift"
    REPORT = "Jahresbericht"


GREMIUM_KPR = Gremium.KPR
GREMIUM_JF = Gremium.JOUR_FIXE
GREMIUM_AG = Gremium.ARBEITSGRUPPE
GREMIEN = words(Gremium)

KATEGORIE_MITGLIED = Kategorie.MITGLIED
KATEGORIE_VERTRETUNG = Kategorie.VERTRETUNG
KATEGORIE_GAST = Kategorie.GAST
KATEGORIEN = words(Kategorie)

STATUS_GEPLANT = SessionStatus.GEPLANT
STATUS_EINGELADEN = SessionStatus.EINGELADEN
STATUS_DURCHGEFUEHRT = SessionStatus.DURCHGEFUEHRT
STATUS_ABGESAGT = SessionStatus.ABGESAGT
SITZUNG_STATUS = words(SessionStatus)

ANWESENHEIT = words(Presence)
BESCHLUSS_ART = ("Beschluss", "Aufgabe")
BESCHLUSS_STAND = ("offen", "in Arbeit", "erledigt")
AG_ART = ("thematisch", "befristet")
AG_STATUS = ("aktiv", "beendet")
VERSAND_STATUS = words(SendState)
ANREDEN = ("Frau", "Herr", "")

MITGLIEDER = Sheet(
    "Mitglieder",
    (
        Column("ID", "id", required=True, unique=True, width=10),
        Column("Anrede", "salutation", choices=ANREDEN, width=9),
        Column("Titel", "title", width=9),
        Column("Vorname", "first_name", required=True, width=14),
        Column("Nachname", "last_name", required=True, width=16),
        Column("Institution", "institution", width=32),
        Column("Funktion", "function", width=28),
        Column("Kategorie", "category", required=True, choices=KATEGORIEN, width=12),
        Column("Sitz", "seat", ref="Sollbesetzung", width=16),
        Column("Fraktion", "fraktion", ref="Fraktionen", width=12),
        Column("Vertretung von", "deputy_of", ref="Mitglieder", width=14),
        Column("E-Mail", "email", Kind.EMAIL, width=32),
        Column("Aktiv von", "active_from", Kind.DATE, width=12),
        Column("Aktiv bis", "active_until", Kind.DATE, width=12),
        Column("Bemerkung", "remark", width=24),
    ),
    table="tblMitglieder",
    records="persons",
    description="Alle Personen: Mitglieder, Vertretungen und Gäste, mit Sitz und E-Mail-Adresse.",
)

SOLLBESETZUNG = Sheet(
    "Sollbesetzung",
    (
        Column("Sitz", "id", required=True, unique=True, width=16),
        Column("Bezeichnung", "name", required=True, width=60),
        Column("KPR", "in_kpr", Kind.BOOL, width=7),
        Column("Jour fixe", "in_jour_fixe", Kind.BOOL, width=10),
        Column("Vorsitz", "chair", Kind.BOOL, width=9),
        Column("Je Fraktion", "per_fraktion", Kind.BOOL, width=11),
        Column("Paragraph", "paragraph", width=10),
    ),
    table="tblSollbesetzung",
    records="seats",
    description="Die Zusammensetzung nach §§ 2 bis 4 der Geschäftsordnung.",
)

FRAKTIONEN = Sheet(
    "Fraktionen",
    (
        Column("Kürzel", "id", required=True, unique=True, width=12),
        Column("Name", "name", required=True, width=40),
    ),
    table="tblFraktionen",
    records="fraktionen",
    description="Die Fraktionen des Stadtrates; je Fraktion ein benanntes Stadtratsmitglied (§ 2).",
)

_DATE_FORMULA = '=IF(${Datum}{row}="","",${Datum}{row}{sign}{name})'

SITZUNGEN = Sheet(
    "Sitzungen",
    (
        Column("ID", "id", required=True, unique=True, width=14),
        Column("Gremium", "gremium", required=True, choices=GREMIEN, width=14),
        Column("Arbeitsgruppe", "working_group", ref="Arbeitsgruppen", width=14),
        Column("Nr.", "number", Kind.INT, width=6),
        Column("Datum", "date", Kind.DATE, required=True, width=12),
        Column("Beginn", "start", Kind.TIME, width=8),
        Column("Ende", "end", Kind.TIME, width=8),
        Column("Ort", "place", width=34),
        Column("Öffentlich", "public", Kind.BOOL, width=11),
        Column("Grundlage Öffentlichkeit", "public_basis", width=24),
        Column("Sitzungsleitung", "chair", ref="Mitglieder", width=15),
        Column("Protokoll", "minute_taker", ref="Mitglieder", width=12),
        Column("Schwerpunkte", "focus", width=36),
        Column("Status", "status", choices=SITZUNG_STATUS, width=13),
        Column("TOP-Anmeldung bis", "agenda_deadline", Kind.FORMULA, width=17,
               formula=_DATE_FORMULA.replace("{sign}{name}", "-KPR_FRIST_TOP")),
        Column("Einladung bis", "invitation_deadline", Kind.FORMULA, width=14,
               formula=_DATE_FORMULA.replace("{sign}{name}", "-KPR_FRIST_EINLADUNG")),
        Column("Niederschrift bis", "minutes_deadline", Kind.FORMULA, width=17,
               formula=_DATE_FORMULA.replace("{sign}{name}", "+KPR_FRIST_NIEDERSCHRIFT")),
        Column("Einladung versandt am", "invitation_sent", Kind.DATE, width=20),
        Column("Niederschrift versandt am", "minutes_sent", Kind.DATE, width=23),
        Column("Rückmeldung bis", "reply_by", Kind.DATE, width=15),
        Column("Bemerkung", "remark", width=24),
    ),
    table="tblSitzungen",
    records="sessions",
    description="Sitzungen des KPR, des Jour fixe und der Arbeitsgruppen; die Fristen rechnet Excel selbst.",
)

TAGESORDNUNG = Sheet(
    "Tagesordnung",
    (
        Column("Sitzung", "session", required=True, ref="Sitzungen", width=14),
        Column("Nr.", "number", required=True, width=6),
        Column("Titel", "title", required=True, width=40),
        Column("Eingereicht von", "submitter", ref="Mitglieder", width=15),
        Column("Eingereicht am", "submitted_on", Kind.DATE, width=14),
        Column("Zugelassen", "admitted", Kind.BOOL, width=11,
               note="Von den Vorsitzenden zugelassen (bei verspäteter Anmeldung)"),
        Column("Vortragende", "presenter", width=26),
        Column("Vertraulich", "confidential", Kind.BOOL, width=11),
        Column("Gäste", "guests", Kind.IDS, ref="Mitglieder", width=14),
        Column("Unterlagen", "documents", width=28),
        Column("Ergebnis", "result", width=40),
    ),
    table="tblTagesordnung",
    records="agenda",
    description="Tagesordnungspunkte je Sitzung; Eröffnung und Verschiedenes ergänzt das Werkzeug.",
)

ANWESENHEIT_SHEET = Sheet(
    "Anwesenheit",
    (
        Column("Sitzung", "session", required=True, ref="Sitzungen", width=14),
        Column("Person", "person", required=True, ref="Mitglieder", width=12),
        Column("Status", "status", required=True, choices=ANWESENHEIT, width=13),
        Column("Vertreten durch", "deputy", ref="Mitglieder", width=15),
        Column("Bemerkung", "remark", width=30),
    ),
    table="tblAnwesenheit",
    records="attendance",
    description="Wer war da, wer war vertreten oder entschuldigt.",
)

BESCHLUESSE = Sheet(
    "Beschluesse",
    (
        Column("ID", "id", required=True, unique=True, width=12),
        Column("Sitzung", "session", required=True, ref="Sitzungen", width=14),
        Column("TOP", "item", width=6),
        Column("Art", "kind", required=True, choices=BESCHLUSS_ART, width=11),
        Column("Text", "text", required=True, width=50),
        Column("Verantwortlich", "owner", width=18),
        Column("Fällig am", "due", Kind.DATE, width=12),
        Column("Stand", "state", choices=BESCHLUSS_STAND, width=11),
    ),
    table="tblBeschluesse",
    records="decisions",
    description="Beschlüsse und Aufgaben (Maßnahmen) mit Verantwortlichen und Fälligkeit.",
)

ARBEITSGRUPPEN = Sheet(
    "Arbeitsgruppen",
    (
        Column("ID", "id", required=True, unique=True, width=10),
        Column("Thema", "theme", required=True, width=34),
        Column("Art", "kind", choices=AG_ART, width=11),
        Column("Eingerichtet am", "established", Kind.DATE, width=15),
        Column("Befristet bis", "limited_until", Kind.DATE, width=13),
        Column("Leitung", "lead", ref="Mitglieder", width=10),
        Column("Mitglieder", "members", Kind.IDS, ref="Mitglieder", width=20),
        Column("Zustandsbeschreibung", "status_description", width=36),
        Column("Handlungsempfehlungen", "recommendations", width=36),
        Column("Messbare Ziele", "goals", width=36),
        Column("Status", "status", choices=AG_STATUS, width=9),
    ),
    table="tblArbeitsgruppen",
    records="working_groups",
    description="Arbeitsgruppen nach § 6 mit ihren Ergebnissen.",
)

PROJEKTE = Sheet(
    "Projekte",
    (
        Column("ID", "id", required=True, unique=True, width=10),
        Column("Titel", "title", required=True, width=36),
        Column("Jahr", "year", Kind.INT, required=True, width=7),
        Column("Träger", "owner", width=26),
        Column("Arbeitsgruppe", "working_group", ref="Arbeitsgruppen", width=14),
        Column("Beschreibung", "description", width=50),
        Column("Stand", "state", width=14),
    ),
    table="tblProjekte",
    records="projects",
    description="Initiierte Projekte und Maßnahmen für den Jahresbericht (§ 5).",
)

VERSAND = Sheet(
    "Versand",
    (
        Column("Schlüssel", "key", required=True, unique=True, width=44),
        Column("Sitzung", "session", required=True, width=14),
        Column("Dokument", "document", required=True, width=13),
        Column("Empfänger", "recipient", width=12),
        Column("E-Mail", "email", width=30),
        Column("Version", "version", width=12),
        Column("Kanal", "transport", width=10),
        Column("Status", "state", choices=VERSAND_STATUS, width=14),
        Column("Zeitpunkt", "timestamp", Kind.DATETIME, width=18),
        Column("Prüfsumme", "checksum", width=20),
        Column("Fehler", "error", width=40),
    ),
    table="tblVersand",
    records="send_log",
    required=False,
    description="Versandprotokoll: eine Zeile je Nachricht; ein zweiter Versand schickt nur, was fehlt.",
)

PRUEFUNG = Sheet(
    "Pruefung",
    (
        Column("Schweregrad", "severity", width=12),
        Column("Code", "code", width=9),
        Column("Regel", "symbol", width=22),
        Column("Paragraph", "paragraph", width=10),
        Column("Meldung", "message", width=80),
        Column("Stelle", "where", width=22),
        Column("Frist", "deadline", Kind.DATE, width=12),
        Column("Spätestens", "act_by", Kind.DATE, width=12),
    ),
    table="tblPruefung",
    tool_owned=True,
    required=False,
    description="Ergebnis der letzten Prüfung; wird bei jeder Prüfung neu geschrieben.",
)

EINSTELLUNGEN = Sheet(
    "Einstellungen",
    (
        Column("Einstellung", "key", required=True, unique=True, width=36),
        Column("Wert", "value", width=34),
        Column("Paragraph", "paragraph", width=10),
        Column("Erläuterung", "description", width=70),
    ),
    table="tblEinstellungen",
    description="Fristen und Parameter der Geschäftsordnung, Absender, Ausgabeordner, Versand.",
)

SHEETS: tuple[Sheet, ...] = (
    MITGLIEDER, SOLLBESETZUNG, FRAKTIONEN, SITZUNGEN, TAGESORDNUNG, ANWESENHEIT_SHEET,
    BESCHLUESSE, ARBEITSGRUPPEN, PROJEKTE, VERSAND, PRUEFUNG, EINSTELLUNGEN,
)
SHEETS_BY_NAME = {sheet.name: sheet for sheet in SHEETS}

# The hidden sheet holding dropdown sources; tool-owned and rebuilt by the generator.
LISTEN = "Listen"


@dataclass(frozen=True)
class Setting:
    """One row of the Einstellungen sheet."""

    key: str  # attribute name in model.Settings
    label: str  # German key as shown in column A
    default: object  # what applies while the cell is empty
    kind: Kind
    paragraph: str = ""
    description: str = ""
    defined_name: str | None = None  # Excel name the deadline formulas use
    example: object = None  # what a new workbook shows instead of the default (a placeholder to replace)

    @property
    def initial(self) -> object:
        """The value a new workbook is made with."""
        return self.default if self.example is None else self.example


SETTINGS: tuple[Setting, ...] = (
    Setting("agenda_days", "Frist TOP-Anmeldung (Tage vor der Sitzung)", 21, Kind.INT, "§ 7",
            "Tagesordnungspunkte können bis drei Wochen vor der Sitzung eingebracht werden.",
            "KPR_FRIST_TOP"),
    Setting("invitation_days", "Frist Einladung (Tage vor der Sitzung)", 14, Kind.INT, "§ 7",
            "Einladung in elektronischer Form mit 14-tägigem Vorlauf.", "KPR_FRIST_EINLADUNG"),
    Setting("minutes_days", "Frist Niederschrift (Tage nach der Sitzung)", 14, Kind.INT, "§ 7",
            "Niederschrift spätestens 14 Tage nach der Sitzung zusenden.", "KPR_FRIST_NIEDERSCHRIFT"),
    Setting("lookahead_days", "Vorschau (Tage)", 7, Kind.INT, "",
            "Eine Frist, die innerhalb so vieler Tage abläuft, wird als Warnung gemeldet."),
    Setting("sessions_per_year", "Sitzungen je Jahr", 4, Kind.INT, "§ 7",
            "Der KPR tagt in der Regel viermal im Jahr."),
    Setting("wg_grace_months", "Schonfrist Arbeitsgruppen (Monate)", 3, Kind.INT, "§ 6",
            "So lange nach der Einrichtung darf eine Arbeitsgruppe noch ohne Ergebnisse sein."),
    Setting("report_due", "Jahresbericht fällig am (Tag.Monat des Folgejahres)", "31.03.", Kind.TEXT,
            "§ 5", "Bis zu diesem Tag des Folgejahres soll der Jahresbericht vorliegen."),
    Setting("reply_days", "Rückmeldung (Tage vor der Sitzung)", 7, Kind.INT, "",
            "Bitte um Rückmeldung zur Teilnahme bis so viele Tage vor der Sitzung."),
    Setting("deputy_mode", "Vertretungen bei Einladung", "in Kopie", Kind.TEXT, "§ 2",
            "'in Kopie': Vertretungen erhalten die Einladung in Kopie; 'anstelle': nur, wenn das "
            "Mitglied als verhindert eingetragen ist; 'nein': gar nicht."),
    Setting("city", "Stadt", "Landeshauptstadt Dresden", Kind.TEXT),
    Setting("council", "Gremium", "Kommunaler Präventionsrat", Kind.TEXT),
    Setting("office_name", "Geschäftsstelle", "Geschäftsstelle KPR", Kind.TEXT, "§ 5"),
    Setting("office_address", "Anschrift der Geschäftsstelle", "", Kind.TEXT, "", "Zeilen mit | trennen.",
            example="Geschäftsbereich Bildung, Jugend und Sport | Postfach 12 00 20 | 01001 Dresden"),
    Setting("office_phone", "Telefon der Geschäftsstelle", "", Kind.TEXT, example="0351 488-0000"),
    Setting("sender", "Absender (E-Mail)", "", Kind.EMAIL, "",
            "Absenderadresse der Einladungen und Niederschriften.", example="kpr@dresden.example"),
    Setting("reply_to", "Antwort an (E-Mail)", "", Kind.EMAIL, example="kpr@dresden.example"),
    Setting("output_dir", "Ausgabeordner", "Ausgabe", Kind.TEXT, "",
            "Ordner für Dokumente und Postausgang; relativ zur Mappe oder absolut."),
    Setting("transport", "Versandkanal", "outbox", Kind.TEXT, "",
            "outbox (E-Mail-Dateien im Ausgabeordner), smtp oder exchange."),
    Setting("smtp_host", "SMTP-Server", "", Kind.TEXT),
    Setting("smtp_port", "SMTP-Port", 587, Kind.INT),
    Setting("smtp_user", "SMTP-Benutzer", "", Kind.TEXT, "", "Das Kennwort steht nie in der Mappe."),
    Setting("ews_url", "Exchange-Adresse (EWS)", "", Kind.TEXT, "",
            "z. B. https://mail.dresden.example/EWS/Exchange.asmx"),
    Setting("mailbox", "Exchange-Postfach", "", Kind.TEXT),
    Setting("exchange_user", "Exchange-Benutzer", "", Kind.TEXT, "", "DOMÄNE\\benutzer"),
    Setting("exchange_auth", "Exchange-Anmeldung", "NTLM", Kind.TEXT, "", "NTLM, Basic, OAuth2 oder SSO."),
    Setting("chunk_size", "Nachrichten je Exchange-Anfrage", 10, Kind.INT),
    Setting("ca_bundle", "Zertifikatsdatei (optional)", "", Kind.TEXT, "",
            "Nur nötig, wenn die Stadt-Zertifizierungsstelle nicht im Windows-Zertifikatspeicher ist."),
)
SETTINGS_BY_LABEL = {s.label: s for s in SETTINGS}
SETTINGS_BY_KEY = {s.key: s for s in SETTINGS}


def setting_default(key: str) -> Any:
    """The default of the setting `key`; `model.Settings` takes its defaults from here."""
    return SETTINGS_BY_KEY[key].default
