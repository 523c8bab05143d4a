"""Parsing untrusted XML (BPMN uploads): no entities, no network, no DTD, a size cap.

A DOCTYPE is refused after parsing, from what the parser itself saw (`docinfo`), not by looking for
bytes: a byte scan misses a declaration further into the file or in another encoding (UTF-16, or
UTF-7 where `<` is written `+ADw-`), while the parser decodes whatever encoding the document declares.
The parser never expands an entity nor reads a DTD or anything over the network, so parsing a hostile
document first is harmless (no billion laughs, no /etc/passwd); it is refused before anyone uses it.
A document that fails to parse is asked the same question of the parser (a target that notes the
DOCTYPE), so a file whose only fault is an entity it declared hears about the DOCTYPE, not a syntax error.
"""

from __future__ import annotations

import contextlib

from lxml import etree

from engine.errors import PackageError
from engine.messages import said

MAX_XML_BYTES = 2 * 1024 * 1024


def _parser(target: object | None = None) -> etree.XMLParser:
    """A parser per document: lxml's parser objects must not be shared between threads."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        target=target,
    )


def parse_xml(content: bytes | str, filename: str) -> etree._ElementTree:
    """Parse `content`, refusing oversized files, DOCTYPE declarations and malformed XML."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > MAX_XML_BYTES:
        raise PackageError(
            said("%(filename)s: %(size)s 字节，超过流程图 %(limit)s 字节的上限（size limit）；"
                 "请把流程拆分为调用活动。", filename=filename, size=len(raw), limit=MAX_XML_BYTES)
        )
    try:
        tree = etree.fromstring(raw, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        if _meets_doctype(raw):  # an entity the parser will not expand is often what broke it
            raise _doctype_refused(filename) from exc
        raise PackageError(said("%(filename)s: XML 格式错误（not well-formed: %(exc)s）；请修正文件后重新部署。",
                                filename=filename, exc=exc)) from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _doctype_refused(filename)
    return tree


class _DoctypeSeen:
    """A parser target that builds nothing and only notes whether the parser met a DOCTYPE."""

    def __init__(self) -> None:
        self.seen = False

    def doctype(self, *_declaration: object) -> None:
        self.seen = True

    def close(self) -> bool:
        return self.seen


def _meets_doctype(raw: bytes) -> bool:
    """Whether a document that failed to parse declared a DOCTYPE before it failed (same parser settings)."""
    target = _DoctypeSeen()
    with contextlib.suppress(etree.XMLSyntaxError):
        etree.fromstring(raw, _parser(target))
    return target.seen


def _doctype_refused(filename: str) -> PackageError:
    return PackageError(said("%(filename)s: 文件中不允许 DOCTYPE 和 ENTITY 声明；请删除后重新保存。",
                             filename=filename))
