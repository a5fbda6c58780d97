"""Helpers for the Libraries suites (client.beta.libraries, .documents, .accesses and the
document_library connector). Wire contract: shared/API.md §8 (Libraries), §7.1
(document_library outputs); behaviour: docs/libraries.md.

run.sh exports TRAMONTANE_OTHER_WORKSPACE_ID, the id of the second workspace (parsed from
`tramontane keys list --workspace other`). Against a server started elsewhere it may be unset:
other_workspace_id() then reads it from the server (owner_id of a library the other workspace
creates).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from conv_helpers import opt
from helpers import make_client, OTHER_KEY, uniq


def word(prefix: str = "w") -> str:
    """A random word the search index keeps whole (letters and digits only)."""
    return prefix + re.sub(r"[^a-z0-9]", "", uniq(""))


def sha256(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


@dataclass
class Doc:
    file_name: str
    text: str


@dataclass
class Fixture:
    tokens: dict
    md: Doc
    txt: Doc
    html: Doc

    def __getitem__(self, k: str) -> Doc:
        return getattr(self, k)


def fixture_docs() -> Fixture:
    """Markdown, plain text and HTML documents, each with its own unique word (tokens[kind]), so a
    search for that word finds exactly that document."""
    t = {"md": word("zmd"), "txt": word("ztxt"), "html": word("zhtml")}
    return Fixture(
        tokens=t,
        md=Doc(
            f"{uniq('guide')}.md",
            "---\ntitle: front matter is dropped\n---\n"
            "# Winds of the Languedoc\n\n"
            f"The **tramontane** blows from the north-west across the Languedoc. Marker {t['md']}.\n\n"
            "## Seasons\n\nIt is strongest in winter and spring.\n",
        ),
        txt=Doc(
            f"{uniq('notes')}.txt",
            f"Plain notes about the mistral and the sea breeze.\nSecond line, marker {t['txt']}.\n",
        ),
        html=Doc(
            f"{uniq('page')}.html",
            "<!doctype html><html><head><title>Page</title><style>.x{color:red}</style>"
            "<script>var boilerplateScript = 1;</script></head><body>"
            '<nav class="menu">boilerplate-nav Home | About</nav>'
            f"<main><h1>Cers and marin</h1><p>The cers is the local name of the tramontane near Narbonne, marker {t['html']}.</p></main>"
            "<footer>boilerplate-footer (c) nobody</footer></body></html>",
        ),
    )


def upload(client, library_id: str, file_name: str, text: str, content_type: Optional[str] = None):
    """Upload text as file_name through the SDK (multipart, part "file")."""
    f: dict = {"file_name": file_name, "content": text.encode()}
    if content_type:
        f["content_type"] = content_type
    return client.beta.libraries.documents.upload(library_id=library_id, file=f)


def wait_done(client, library_id: str, document_id: str, timeout: float = 30.0):
    """Poll documents.status until process_status is "done" (bounded wait); fail at once on
    "error" (with the server's reason). Returns the last ProcessingStatus."""
    deadline = time.monotonic() + timeout
    while True:
        st = client.beta.libraries.documents.status(library_id=library_id, document_id=document_id)
        assert st.document_id == document_id
        assert isinstance(st.processing_status, str)
        if st.process_status == "done":
            return st
        assert st.process_status != "error", f"document {document_id} failed: {st}"
        assert st.process_status in ("todo", "in_progress", "waiting_for_capacity"), st
        if time.monotonic() > deadline:
            raise AssertionError(f"document {document_id} not processed within {timeout}s: {st}")
        time.sleep(0.1)


def new_library(client, **extra: Any):
    kwargs = {"name": uniq("lib"), "description": "conformance library"}
    kwargs.update(extra)
    return client.beta.libraries.create(**kwargs)


def upload_done(client, library_id: str, file_name: str, text: str):
    d = upload(client, library_id, file_name, text)
    wait_done(client, library_id, d.id)
    return client.beta.libraries.documents.get(library_id=library_id, document_id=d.id)


def library_with_docs(client):
    """A new library holding the three fixture documents, uploaded in order and processed.
    Returns (library, fixture, {kind: Document as uploaded})."""
    lib = new_library(client)
    fx = fixture_docs()
    docs = {}
    for k in ("md", "txt", "html"):  # sequential: created_at order is upload order
        docs[k] = upload(client, lib.id, fx[k].file_name, fx[k].text)
    for k in ("md", "txt", "html"):
        wait_done(client, lib.id, docs[k].id)
    return lib, fx, docs


def safe_delete_library(client, library_id: str) -> None:
    try:
        client.beta.libraries.delete(library_id=library_id)
    except Exception:  # noqa: BLE001 - cleanup only
        pass


def owner_id_of(client) -> str:
    """The workspace id behind a client: owner_id of a library it creates (then deleted)."""
    lib = new_library(client)
    client.beta.libraries.delete(library_id=lib.id)
    assert isinstance(lib.owner_id, str) and lib.owner_id, lib
    return lib.owner_id


_other_ws: Optional[str] = None


def other_workspace_id() -> str:
    """The second workspace's id: run.sh's TRAMONTANE_OTHER_WORKSPACE_ID, else read from the
    server."""
    global _other_ws
    if _other_ws is None:
        _other_ws = os.environ.get("TRAMONTANE_OTHER_WORKSPACE_ID") or owner_id_of(make_client(OTHER_KEY))
    return _other_ws


def assert_library(lib: Any):
    """Invariants of a Library (API.md §8.1) beyond the SDK's pydantic model."""
    assert isinstance(lib.id, str) and lib.id
    assert isinstance(lib.name, str)
    assert isinstance(lib.created_at, datetime) and lib.created_at.tzinfo is not None
    assert isinstance(lib.updated_at, datetime) and lib.updated_at.tzinfo is not None
    assert lib.updated_at >= lib.created_at
    assert lib.owner_id is None or isinstance(lib.owner_id, str)
    assert isinstance(lib.owner_type, str)
    assert isinstance(lib.total_size, int) and lib.total_size >= 0
    assert isinstance(lib.nb_documents, int) and lib.nb_documents >= 0
    assert lib.chunk_size is None or isinstance(lib.chunk_size, int)
    return lib


def assert_document(d: Any, library_id: Optional[str] = None):
    """Invariants of a Document (API.md §8.2) beyond the SDK's pydantic model."""
    assert isinstance(d.id, str) and d.id
    if library_id is not None:
        assert d.library_id == library_id
    assert isinstance(d.name, str)
    assert isinstance(d.created_at, datetime) and d.created_at.tzinfo is not None
    assert isinstance(d.process_status, str)
    assert isinstance(d.processing_status, str)
    assert isinstance(d.uploaded_by_type, str)
    assert isinstance(d.tokens_processing_total, int) and d.tokens_processing_total >= 0
    for k in ("hash", "mime_type", "extension", "uploaded_by_id"):
        v = getattr(d, k)
        assert v is None or isinstance(v, str), f"{k}: {d}"
    assert d.size is None or isinstance(d.size, int)
    return d


def assert_pagination(p: Any, total_items: int, current_page: int, page_size: int) -> None:
    p = opt(p)
    assert p is not None, "pagination present"
    assert p.total_items == total_items, p
    assert p.current_page == current_page, p
    assert p.page_size == page_size, p
    assert p.total_pages == -(-total_items // page_size), p
    assert p.has_more == ((current_page + 1) * page_size < total_items), p


def fetch_signed(url: str):
    """GET a signed URL without any API key: (status, headers (lower-case keys), body bytes)."""
    req = urllib.request.Request(url, method="GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, {k.lower(): v for k, v in res.headers.items()}, res.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def make_pdf(pages: list) -> bytes:
    """A minimal valid PDF (one Helvetica text line per entry, one content stream per page), like
    internal/library's test fixtures: pages is a list of pages, each a list of lines (a string, or
    (text, size) for another font size than 12: a line set >= 1.25x the body size is a heading)."""
    buf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list = []

    def obj(body: bytes) -> None:
        offsets.append(len(buf))
        buf.extend(b"%d 0 obj\n" % len(offsets) + body + b"\nendobj\n")

    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    obj(b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    widths = " ".join(["556"] * 95)
    obj(
        f"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding "
        f"/FirstChar 32 /LastChar 126 /Widths [{widths}] >>".encode()
    )
    for i, lines in enumerate(pages):
        cs, y = "", 740
        for line in lines:
            text, size = (line, 12) if isinstance(line, str) else line
            esc = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            cs += f"BT /F1 {size} Tf 72 {y} Td ({esc}) Tj ET\n"
            y -= size + 6
        obj(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        data = cs.encode("latin-1")
        obj(b"<< /Length %d >>\nstream\n" % len(data) + data + b"endstream")
    xref = len(buf)
    buf.extend(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    for o in offsets:
        buf.extend(b"%010d 00000 n \n" % o)
    buf.extend(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref))
    return bytes(buf)


def upload_bytes(client, library_id: str, file_name: str, data: bytes, content_type: Optional[str] = None):
    f: dict = {"file_name": file_name, "content": data}
    if content_type:
        f["content_type"] = content_type
    return client.beta.libraries.documents.upload(library_id=library_id, file=f)
