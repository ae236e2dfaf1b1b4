"""Export a case as a CyberTipline-style XML report (NCMEC's public element names), validated
against the subset schema in xsd/cybertipline-subset.xsd before it leaves.

Free-text items never go into the report; accounts become "person or user reported", URLs
"internet details", hashes "file details" (Safeguard never holds the files, so
fileViewedByEsp is false).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.cases import service as cases
from safeguard.cases.case_models import AgeGroup, CaseItem, ItemKind
from safeguard.errors import InvalidInput

XSD = Path(__file__).with_name("xsd") / "cybertipline-subset.xsd"
_HASH_TYPES = {"md5": "MD5", "sha256": "SHA256", "pdq": "PDQ"}
_AGE_ORDER = [AgeGroup.INFANT, AgeGroup.PRE_PUBESCENT, AgeGroup.PUBESCENT,
              AgeGroup.NOT_DETERMINED]


class IncompleteReport(InvalidInput):
    """The case lacks fields a report needs; `missing` lists every one."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("the report cannot be made; missing: " + "; ".join(missing))
        self.missing = missing


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def build_report(session: Session, actor: Actor, case_id: int, *, org_name: str,
                 reporter_email: str, urgent: bool = False) -> bytes:
    case = cases.get_case(session, case_id)
    items = cases.items(session, case_id)
    urls = [i.value for i in items if i.kind == ItemKind.URL]
    hashes = [i for i in items if i.kind == ItemKind.HASH]
    missing = []
    if not case.incident_type:
        missing.append("incident type (set it on the case)")
    if not org_name.strip():
        missing.append("reporter organisation (SAFEGUARD_REPORTER_ORG_NAME)")
    if not reporter_email.strip():
        missing.append("reporter email (SAFEGUARD_REPORTER_EMAIL)")
    if not urls and not hashes:
        missing.append("at least one URL or hash item")
    if missing:
        raise IncompleteReport(missing)

    report = etree.Element("report")
    summary = etree.SubElement(report, "incidentSummary")
    _text(summary, "incidentType", case.incident_type or "")
    if urgent:
        _text(summary, "escalateToHighPriority", "Child in imminent danger")
    _text(summary, "incidentDateTime", case.created_at.isoformat(timespec="seconds"))
    if urls:
        page = etree.SubElement(etree.SubElement(report, "internetDetails"), "webPageIncident")
        for url in urls:
            _text(page, "url", url)
    reporter = etree.SubElement(report, "reporter")
    _text(etree.SubElement(reporter, "reportingPerson"), "email", reporter_email)
    _text(reporter, "companyTemplate", org_name)
    for item in items:
        if item.kind == ItemKind.ACCOUNT:
            _account(report, item)
    ages = [AgeGroup(i.age_group) for i in items if i.age_group]
    if ages:
        _text(etree.SubElement(report, "victim"), "ageGroup",
              min(ages, key=_AGE_ORDER.index).value)
    _text(report, "additionalInfo", f"Safeguard case {case.reference}: {case.title}")
    for item in hashes:
        signal, _, value = item.value.partition(":")
        details = etree.SubElement(report, "fileDetails")
        _text(details, "fileId", f"{case.reference}-{item.id}")
        _text(details, "originalFileHash", value.lower(),
              hashType=_HASH_TYPES[signal.lower()])
        if item.industry_class:
            _text(details, "industryClassification", item.industry_class)
        _text(details, "fileViewedByEsp", "false")
    data: bytes = etree.tostring(report, xml_declaration=True, encoding="UTF-8",
                                 pretty_print=True)
    errors = validate(data)
    if errors:  # our own output breaking the schema is a bug, not bad input
        raise RuntimeError("the report does not match the schema: " + "; ".join(errors))
    record(session, actor, "case.cybertipline_exported", "case", case.id, urls=len(urls),
           hashes=len(hashes))
    return data


def validate(data: bytes) -> list[str]:
    """Schema errors of an XML report (an empty list when it is valid). Entities and
    network access are off, so a hostile file cannot read files or call out."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        document = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if document.getroottree().docinfo.internalDTD is not None:
        return ["a DOCTYPE is not allowed (entities are never expanded)"]
    schema = _schema()
    try:
        if schema.validate(document):
            return []
    except etree.XMLSchemaValidateError as exc:
        return [f"cannot be checked against the schema: {exc}"]
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def _account(report: etree._Element, item: CaseItem) -> None:
    person = etree.SubElement(report, "personOrUserReported")
    value = item.value.strip()
    if "@" in value and not value.startswith("@"):
        _text(person, "email", value)
    elif sum(c.isdigit() for c in value) >= 7 and not value.startswith("@"):
        _text(person, "phone", value)
    else:
        _text(person, "screenName", value.lstrip("@"))


def _text(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, **attrs)
    element.text = text
    return element
