"""The rules of procedure as checks (docs/RULES.md); the registry is an immutable tuple.

Each rule is one function of the modules beside this one, taking a `Context` and yielding
`Issue`s; the `Rule` record adds code, symbol, severity and paragraph. `run_rules` runs
them all; a rule that crashes becomes a finding of its own and the others still run.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from kpr_excel.domain.findings import Finding, Severity
from kpr_excel.domain.model import Model
from kpr_excel.rules import annual, composition, confidentiality, groups, sessions
from kpr_excel.rules.base import Context, DocumentText, Issue, Rule

__all__ = ("RULES", "RULES_BY_CODE", "Context", "DocumentText", "Issue", "Rule", "rule", "run_rules")

F, W, H = Severity.FEHLER, Severity.WARNUNG, Severity.HINWEIS

RULES: tuple[Rule, ...] = (
    Rule("GO-2.1", "sitz-unbesetzt", W, "§ 2",
         "Jeder Sitz der Sollbesetzung im KPR ist am Stichtag mit einem aktiven Mitglied besetzt; der Sitz der "
         "Stadtratsmitglieder einmal je Fraktion aus dem Blatt Fraktionen. Die Vorsitze prüft GO-3.1, die "
         "Sitze nur im Jour fixe GO-4.1.",
         composition.seats_filled),
    Rule("GO-2.2", "fraktion-mehrfach", F, "§ 2",
         "Keine Fraktion hat mehr als ein aktives benanntes Stadtratsmitglied (Vertretungen zählen nicht mit).",
         composition.one_per_fraktion, quote="je einem benannten Stadtratsmitglied pro Fraktion"),
    Rule("GO-2.3", "mitglied-ohne-sitz", H, "§ 2",
         "Jedes aktive Mitglied hat einen Sitz der Sollbesetzung. Themenbezogene Gäste werden je Sitzung oder "
         "Tagesordnungspunkt hinzugezogen und als Kategorie „Gast“ geführt, nicht als Mitglied.",
         composition.members_have_seats),
    Rule("GO-2.4", "vertretung-ungueltig", F, "§ 2",
         "Eine Vertretung verweist in „Vertretung von“ auf eine vorhandene Person, die aktives Mitglied ist; "
         "eine Vertretung vertritt keine Vertretung.",
         composition.deputies_valid, quote="(oder deren Vertreter)"),
    Rule("GO-3.1", "vorsitz-unvollstaendig", F, "§ 3",
         "Genau zwei Vorsitze sind besetzt, je mit genau einem aktiven Mitglied: die/der Beigeordnete für "
         "Bildung, Jugend und Sport und die Leitung der Polizeidirektion Dresden.",
         composition.chairs_complete),
    Rule("GO-3.2", "sitzungsleitung", F, "§ 3",
         "Wer als Sitzungsleitung einer KPR-Sitzung eingetragen ist, hat am Sitzungstag einen Vorsitz inne.",
         sessions.session_chair, quote="die Leitung der Sitzungen"),
    Rule("GO-4.1", "jourfixe-besetzung", W, "§ 4",
         "Zum Jour fixe gehören die Vorsitzenden, die drei genannten Beigeordneten und die Geschäftsstelle: die "
         "Vorsitze sind als Teil des Jour fixe markiert, die Sitze nur im Jour fixe sind besetzt.",
         composition.jour_fixe_complete),
    Rule("GO-4.2", "sitzung-unvorbereitet", H, "§ 4",
         "Vor ihrer Einladungsfrist hat eine KPR-Sitzung einen Jour fixe seit der vorigen Sitzung, und "
         "inhaltliche Schwerpunkte sind eingetragen (bei der Sitzung oder dem Jour fixe). Geprüft werden "
         "Sitzungen, deren Einladungsfrist innerhalb der Vorschau liegt oder vorbei ist.",
         sessions.sessions_prepared,
         quote="bereiten die Sitzungen des KPR vor und legen inhaltliche Schwerpunkte fest"),
    Rule("GO-5.1", "jahresbericht-fehlt", H, "§ 5",
         "Für jedes abgeschlossene Jahr, in dem der KPR getagt hat, ist der Jahresbericht erfasst: eine Zeile im "
         "Blatt Versand mit Dokument „Jahresbericht“ und dem Jahr in der Spalte Sitzung. Gemeldet ab der "
         "Vorschau vor dem Fälligkeitstag (Einstellung, Standard 31.03. des Folgejahres).",
         annual.yearly_report, quote="jährlichen Präventions- oder Tätigkeitsbericht"),
    Rule("GO-6.1", "ag-ergebnisse-fehlen", W, "§ 6",
         "Eine aktive Arbeitsgruppe hat nach der Schonfrist (Einstellung, Standard 3 Monate ab Einrichtung) eine "
         "Zustandsbeschreibung, Handlungsempfehlungen und mindestens ein messbares Ziel eingetragen.",
         groups.results_recorded,
         quote="Zustandsbeschreibung sowie Handlungsempfehlungen und definieren messbare Ziele"),
    Rule("GO-6.2", "ag-niederschrift-fehlt", W, "§ 6",
         "Jede Sitzung einer Arbeitsgruppe, die stattgefunden hat, hat eine Niederschrift (Versanddatum "
         "eingetragen); erinnert wird wie bei der Niederschriftsfrist des KPR.",
         groups.minutes_kept, quote="Über die Sitzungsergebnisse sind Niederschriften zu fertigen"),
    Rule("GO-6.3", "ag-befristung-abgelaufen", H, "§ 6",
         "Eine befristete Arbeitsgruppe ist nach ihrem Enddatum nicht mehr aktiv; eine befristete Arbeitsgruppe "
         "hat ein Enddatum.",
         groups.limited_groups_ended, quote="zeitlich befristete Arbeitsgruppen"),
    Rule("GO-7.1", "sitzungen-pro-jahr", W, "§ 7",
         "Jedes Kalenderjahr bis zum Jahr des Stichtags hat die übliche Zahl (Einstellung, Standard 4) "
         "durchgeführter und geplanter, nicht abgesagter KPR-Sitzungen.",
         sessions.sessions_per_year, quote="tagt in der Regel viermal im Jahr"),
    Rule("GO-7.2", "top-verspaetet", W, "§ 7",
         "Ein Tagesordnungspunkt, der nach der Anmeldefrist (Standard drei Wochen vor der Sitzung) eingereicht "
         "wurde, ist von den Vorsitzenden als zugelassen vermerkt; sonst wird er gemeldet.",
         sessions.late_items_admitted, quote="bis drei Wochen vor Sitzung"),
    Rule("GO-7.3", "top-einreicher", W, "§ 7",
         "Wer einen Tagesordnungspunkt einer KPR-Sitzung einreicht, ist an diesem Tag Mitglied oder Vertretung.",
         sessions.submitters_are_members, quote="Die Mitglieder des KPR können ... einbringen"),
    Rule("GO-7.4", "einladungsfrist", F, "§ 7",
         "Die Einladung zu einer KPR-Sitzung ist rechtzeitig versandt (Standard 14 Tage vorher). Noch nicht "
         "versandt und innerhalb der Vorschau fällig: Warnung; überfällig oder verspätet versandt: Fehler.",
         sessions.invitation_in_time, quote="mit 14-tägigem Vorlauf", early_severity=W),
    Rule("GO-7.5", "einladung-elektronisch", F, "§ 7",
         "Alle, die zu einer kommenden Sitzung eingeladen werden (Mitglieder, Vertretungen nach der Einstellung, "
         "Gäste), haben eine gültige E-Mail-Adresse.",
         sessions.invitees_reachable, quote="in elektronischer Form"),
    Rule("GO-7.6", "niederschriftsfrist", F, "§ 7",
         "Die Niederschrift einer KPR-Sitzung, die stattgefunden hat, ist rechtzeitig versandt (Standard 14 Tage "
         "danach). Innerhalb der Vorschau fällig: Warnung; überfällig oder verspätet: Fehler.",
         sessions.minutes_in_time, quote="spätestens 14 Tage nach der Sitzung", early_severity=W),
    Rule("GO-7.7", "oeffentlichkeit", W, "§ 7",
         "Eine als öffentlich markierte Sitzung nennt den Beschluss, der sie öffentlich macht.",
         sessions.public_has_basis, quote="soweit nichts Abweichendes bestimmt ist, nicht öffentlich"),
    Rule("GO-8.1", "vertraulich-an-gast", F, "§ 8",
         "Niemand, der nicht Mitglied ist (Gast, fremde Adresse), erhält einen vertraulichen "
         "Tagesordnungspunkt oder seine Unterlagen: kein Gast bei einem vertraulichen Punkt einer kommenden "
         "Sitzung, kein solcher Versand im Blatt Versand.",
         confidentiality.confidential_to_members),
    Rule("GO-8.2", "vertraulichkeitsvermerk", F, "§ 8",
         "Jede Einladung und Niederschrift einer nicht öffentlichen Sitzung (oder mit vertraulichen Punkten) "
         "trägt den Hinweis auf die Pflicht zur Verschwiegenheit; geprüft an den erstellten Dokumenten.",
         confidentiality.notice_on_documents),
)

RULES_BY_CODE = {r.code: r for r in RULES}


def rule(code: str) -> Rule:
    return RULES_BY_CODE[code]


def run_rules(model: Model, stichtag: date, documents: Iterable[DocumentText] = (),
              rules: tuple[Rule, ...] = RULES) -> list[Finding]:
    """Every rule's findings for `model` on `stichtag`; `documents` are rendered texts for GO-8.2."""
    context = Context(model, stichtag, tuple(documents))
    return [finding for r in rules for finding in r.run(context)]
