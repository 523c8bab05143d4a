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
            f"{filename}: {len(raw)} 字节，超过流程图 {MAX_XML_BYTES} 字节的上限（size limit）；"
            "请把流程拆分为调用活动。"
        )
    if b"<!DOCTYPE" in raw[:4096] or b"<!ENTITY" in raw:
        raise PackageError(
            f"{filename}: BPMN 文件中不允许 DOCTYPE 和 ENTITY 声明；"
            "请删除后重新保存流程图。"
        )
    try:
        return etree.ElementTree(etree.fromstring(raw, _PARSER))
    except etree.XMLSyntaxError as exc:
        raise PackageError(f"{filename}: XML 格式错误（not well-formed: {exc}）；请修正文件后重新部署。") from exc
