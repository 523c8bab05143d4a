"""Parsing untrusted XML (BPMN uploads): no entities, no network, no DTD, a size cap."""

from __future__ import annotations

from lxml import etree

from .errors import PackageError

MAX_XML_BYTES = 2 * 1024 * 1024

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=False,
)


def parse_xml(content: bytes | str, filename: str) -> etree._ElementTree:
    """Parse `content`, refusing oversized files, DOCTYPE declarations and malformed XML."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > MAX_XML_BYTES:
        raise PackageError(
            f"{filename}: {len(raw)} bytes is over the {MAX_XML_BYTES} byte limit for a diagram; "
            "split the process into call activities."
        )
    if b"<!DOCTYPE" in raw[:4096] or b"<!ENTITY" in raw:
        raise PackageError(
            f"{filename}: DOCTYPE and ENTITY declarations are not allowed in BPMN files; "
            "remove them and save the diagram again."
        )
    try:
        return etree.ElementTree(etree.fromstring(raw, _PARSER))
    except etree.XMLSyntaxError as exc:
        raise PackageError(f"{filename}: not well-formed XML ({exc}); fix the file and deploy again.") from exc
