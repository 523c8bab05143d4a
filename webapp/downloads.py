"""CSV downloads, served one way everywhere: UTF-8 with a byte-order mark, `text/csv; charset=utf-8`.

Why one helper: each page used to build its own Response, and `mimetype="text/csv; charset=utf-8"` made
Flask append its charset again (`…; charset=utf-8; charset=utf-8`) — some clients then guess the
encoding, and Excel on a Chinese Windows opens a CSV without the BOM as GBK, so the Chinese turned to
mojibake. The BOM is what tells Excel the file is UTF-8; the header is what tells everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import Response, stream_with_context

CSV_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"


def csv_download(chunks: Iterable[str], filename: str, stream: bool = False) -> Response:
    """`chunks` of CSV text as a download named `filename` (ASCII), the BOM first; `stream` sends it as it is
    made (a long export), else at once."""
    body = _encoded(chunks)
    response = Response(stream_with_context(body) if stream else b"".join(body), content_type=CSV_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_file(content: bytes, filename: str) -> Response:
    """A kept CSV file (a report) served the same way: the BOM added only if the file lacks it."""
    return csv_download([content.decode("utf-8-sig")], filename)


def _encoded(chunks: Iterable[str]) -> Iterator[bytes]:
    yield BOM.encode("utf-8")
    for chunk in chunks:
        if chunk:
            yield chunk.removeprefix(BOM).encode("utf-8")
