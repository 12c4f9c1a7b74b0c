"""The pages' words: Dutch first, English on `?lang=en`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

LANGS = ("nl", "en")

# key -> (Dutch, English)
TEXTS: dict[str, tuple[str, str]] = {
    "site": ("Coördinatieledger Groningen", "Groningen coordination ledger"),
    "skip": ("Direct naar de inhoud", "Skip to content"),
    "nav": ("Hoofdmenu", "Main menu"),
    "find": ("Adres zoeken", "Find an address"),
    "worklist": ("Werklijst", "Worklist"),
    "dashboard": ("Dashboard", "Dashboard"),
    "status": ("Status", "Status"),
    "api": ("API-documentatie", "API documentation"),
    "language": ("Taal", "Language"),
    "other_language": ("English", "Nederlands"),
    "postcode": ("Postcode", "Postcode"),
    "postcode_hint": ("Bijvoorbeeld 9711AB", "For example 9711AB"),
    "huisnummer": ("Huisnummer", "House number"),
    "addition": ("Huisletter of toevoeging (niet verplicht)", "Letter or addition (optional)"),
    "bag": ("Of: BAG-id van de nummeraanduiding (16 cijfers)", "Or: BAG id of the address (16 digits)"),
    "search": ("Zoeken", "Search"),
    "results": ("Gevonden adressen", "Addresses found"),
    "no_results": ("Geen adres gevonden.", "No address found."),
    "case": ("Dossier", "Case"),
    "cutoffs": ("Peilmoment", "Cut-offs"),
    "at": ("Gebeurd tot en met (geldige tijd)", "Happened by (valid time)"),
    "known_at": ("Bekend bij de ledger op (registratietijd)", "Known to the ledger by (recorded time)"),
    "show": ("Tonen", "Show"),
    "history_link": ("Geschiedenis en bevindingen (replay)", "History and findings (replay)"),
    "attention": ("Aandachtspunten", "Attention points"),
    "no_attention": ("Geen aandachtspunten.", "No attention points."),
    "since": ("sinds", "since"),
    "days_old": ("dagen oud", "days old"),
    "damage": ("Schade (IMG)", "Damage (IMG)"),
    "claims": ("Schademeldingen", "Claims"),
    "claim": ("Melding", "Claim"),
    "claim_type": ("Soort", "Type"),
    "route": ("Route", "Route"),
    "state": ("Stand", "Status"),
    "filed": ("Gemeld", "Filed"),
    "decided": ("Besloten", "Decided"),
    "amount": ("Bedrag", "Amount"),
    "awarded": ("Toegekend", "Awarded"),
    "paid": ("Uitbetaald", "Paid"),
    "pending": ("Openstaande meldingen", "Pending claims"),
    "no_claims": ("Geen schademeldingen.", "No claims."),
    "strengthening": ("Versterking (NCG)", "Strengthening (NCG)"),
    "in_programme": ("In het versterkingsprogramma", "In the strengthening programme"),
    "not_in_programme": ("Niet in het versterkingsprogramma", "Not in the strengthening programme"),
    "phase": ("Fase", "Phase"),
    "milestones": ("Mijlpalen", "Milestones"),
    "stalled": ("Stilgevallen", "Stalled"),
    "coordination": ("Samenloop en coördinatie", "Concurrence and coordination"),
    "samenloop": ("Samenloop", "Concurrence (samenloop)"),
    "samenloop_since": ("Samenloop sinds", "Samenloop since"),
    "no_samenloop": ("Geen samenloop", "No samenloop"),
    "integrated": ("Integrale aanpak", "Integrated approach"),
    "requested": ("Gevraagd", "Requested"),
    "offered": ("Aangeboden", "Offered"),
    "agreed": ("Akkoord", "Agreed"),
    "declined": ("Afgewezen", "Declined"),
    "coordinator": ("Coördinator", "Coordinator"),
    "none": ("geen", "none"),
    "visits": ("Bezoeken", "Visits"),
    "joint_visits": ("Gezamenlijke bezoeken", "Joint visits"),
    "consent": ("Toestemming om gegevens te delen", "Consent to share information"),
    "yes": ("ja", "yes"),
    "no": ("nee", "no"),
    "ledger_position": ("Stand van de ledger", "Ledger position"),
    "events": ("Gebeurtenissen", "Events"),
    "last_event": ("Laatste gebeurtenis", "Last event"),
    "position": ("Positie", "Position"),
    "head_hash": ("Hash van de kop", "Head hash"),
    "figures": ("Cijfers", "Figures"),
    "governance": ("Sturingsinformatie G1–G15", "Governance metrics G1–G15"),
    "evaluation": ("Evaluatie E1–E6", "Evaluation E1–E6"),
    "pivot": ("Omslagdatum (voor/na)", "Pivot date (before/after)"),
    "figure": ("Cijfer", "Figure"),
    "value": ("Waarde", "Value"),
    "table_of": ("Tabel bij de grafiek", "Table beside the chart"),
    "store": ("Gebeurtenissenopslag", "Event store"),
    "store_head": ("Kop van de opslag", "Store head"),
    "projections": ("Projecties", "Projections"),
    "behind": ("Achterstand (gebeurtenissen)", "Lag (events)"),
    "kafka": ("Kafka", "Kafka"),
    "kafka_off": (
        "Niet geconfigureerd (ingebed: projecties volgen de opslag zelf)",
        "Not configured (embedded: the projections follow the store themselves)",
    ),
    "kafka_on": ("Geconfigureerd", "Configured"),
    "checkpoint": ("Laatste checkpoint", "Latest checkpoint"),
    "no_checkpoint": ("Nog geen checkpoint gepubliceerd.", "No checkpoint published yet."),
    "size": ("Grootte", "Size"),
    "root": ("Wortelhash", "Root hash"),
    "error": ("Fout in de vraag", "Error in the request"),
    "not_found": ("Niet gevonden", "Not found"),
    "back": ("Terug naar zoeken", "Back to search"),
    "provenance": ("Herkomst", "Provenance"),
    "source": ("Bron", "Source"),
    "as_of": ("Peilmoment", "As of"),
    "over_time": ("Verloop in de tijd", "Over time"),
    "over_time_intro": (
        "Elk punt twee keer: zoals het toen bekend was (geldige en registratietijd op het punt) en "
        "zoals het nu bekend is (alleen geldige tijd). Het verschil is wat latere registraties en "
        "correcties veranderden.",
        "Each point twice: as known then (valid and recorded time at the point) and as known now "
        "(valid time only). The difference is what later registrations and corrections changed.",
    ),
    "from": ("Van", "From"),
    "to": ("Tot en met", "To"),
    "step": ("Stap", "Step"),
    "month": ("maand", "month"),
    "quarter": ("kwartaal", "quarter"),
    "year": ("jaar", "year"),
    "point": ("Punt", "Point"),
    "known_then": ("toen bekend", "known then"),
    "known_now": ("nu bekend", "known now"),
    "now": ("nu", "now"),
    "attention_kind": ("Soort aandachtspunt", "Kind of attention point"),
    "all": ("alle", "all"),
    "organisation": ("Organisatie die moet handelen", "Organisation that must act"),
    "municipality": ("Gemeente (gemeentecode)", "Municipality (gemeentecode)"),
    "municipality_hint": (
        "Eén of meer codes, gescheiden door komma's, bijvoorbeeld 0014",
        "One or more codes, comma-separated, e.g. 0014",
    ),
    "min_age": ("Minimaal aantal dagen oud", "At least this many days old"),
    "open_points": ("open aandachtspunten", "open attention points"),
    "page": ("pagina", "page"),
    "pages": ("Pagina's", "Pages"),
    "previous": ("Vorige pagina", "Previous page"),
    "next": ("Volgende pagina", "Next page"),
    "worklist_caption": ("Open aandachtspunten, meest urgent eerst", "Open attention points, most urgent first"),
    "urgency": ("Urgentie", "Urgency"),
    "address": ("Adres (BAG-id)", "Address (BAG id)"),
    "age": ("Dagen oud", "Days old"),
    "who_acts": ("Wie handelt", "Who acts"),
    "signin": ("Aanmelden", "Sign in"),
    "signout": ("Afmelden", "Sign out"),
    "token": ("Token", "Token"),
    "token_hint": (
        "Het bearer-token van uw organisatie (bijvoorbeeld van ledger token issue)",
        "Your organisation's bearer token (for example from ledger token issue)",
    ),
    "signin_development": (
        "Ontwikkelmodus: er zijn geen sleutels van een uitgever ingesteld, dus lezen kan zonder token.",
        "Development mode: no issuer keys are configured, so reading needs no token.",
    ),
    "signed_in_as": ("Aangemeld als", "Signed in as"),
}

STATUS = {
    "pending": ("in behandeling", "pending"),
    "deferred": ("aangehouden", "deferred"),
    "decided": ("besloten", "decided"),
    "withdrawn": ("ingetrokken", "withdrawn"),
}
ATTENTION = {
    "no_coordinator": ("Samenloop zonder coördinator", "Samenloop without a coordinator"),
    "deferred_awaiting_strengthening": ("Aangehouden in afwachting van versterking", "Deferred awaiting strengthening"),
    "claim_over_term": ("Melding over de beslistermijn", "Claim over its decision term"),
    "aos_open_48h": ("Acuut onveilige situatie langer dan 48 uur open", "Acutely unsafe situation open over 48 hours"),
    "stalled": ("Versterking stilgevallen", "Strengthening stalled"),
}
MILESTONES = {
    "included_in_local_plan": ("opgenomen in het lokale plan", "included in the local plan"),
    "structural_inspection": ("opname", "structural inspection"),
    "assessment": ("beoordeling", "assessment"),
    "norm_decision": ("besluit: voldoet aan de norm", "norm decision"),
    "strengthening_decision": ("versterkingsbesluit", "strengthening decision"),
    "construction_started": ("start uitvoering", "construction started"),
    "construction_completed": ("uitvoering gereed", "construction completed"),
    "closed": ("traject afgesloten", "trajectory closed"),
}
PHASES = {
    1: ("niet gestart", "not started"),
    2: ("in het lokale plan", "in the local plan"),
    3: ("opname gedaan", "inspected"),
    4: ("beoordeeld", "assessed"),
    5: ("besluit en uitvoering", "decision and construction"),
    6: ("afgesloten", "closed"),
}


def language(value: str | None) -> str:
    """The page language from `?lang=`: `en`, else Dutch."""
    return "en" if value == "en" else "nl"


def translator(lang: str) -> Callable[[str], str]:
    """`t(key)`: the text in `lang` (the key itself when there is none)."""
    index = LANGS.index(lang)

    def t(key: str) -> str:
        pair = TEXTS.get(key)
        return pair[index] if pair else key

    return t


def word(table: Mapping[Any, tuple[str, str]], key: object, lang: str) -> str:
    """A code's words from one of the tables above (the code itself when unknown)."""
    pair = table.get(key)
    return pair[LANGS.index(lang)] if pair else str(key)
