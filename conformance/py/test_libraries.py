"""Libraries, documents and sharing through the official Python SDK (client.beta.libraries,
.documents, .accesses). Contract: shared/API.md §8; behaviour: docs/libraries.md.

Every test makes its own libraries (unique names) and documents with unique words; the
cross-workspace tests use the second workspace of run.sh (TRAMONTANE_OTHER_KEY).
"""

import json
import os
import time
import urllib.parse
import warnings
from datetime import datetime, timedelta, timezone

from conv_helpers import opt
from helpers import URL, HTTPValidationError, SDKError, expect_status, random_id, raw_request, uniq
from library_helpers import (
    assert_document,
    assert_library,
    assert_pagination,
    fetch_signed,
    fixture_docs,
    library_with_docs,
    make_pdf,
    new_library,
    other_workspace_id,
    owner_id_of,
    safe_delete_library,
    sha256,
    upload,
    upload_bytes,
    upload_done,
    wait_done,
)

# --------------------------------------------------------------------------- libraries


def test_create_201_and_get(client):
    name = uniq("lib")
    lib = assert_library(client.beta.libraries.create(name=name, description="conformance library"))
    assert lib.name == name
    assert lib.description == "conformance library"
    assert lib.owner_type == "Workspace"
    assert isinstance(lib.owner_id, str)
    assert lib.total_size == 0
    assert lib.nb_documents == 0
    assert lib.chunk_size is None

    got = assert_library(client.beta.libraries.get(library_id=lib.id))
    assert got == lib

    # Wire: 201 + application/json, R/null keys present.
    r = raw_request(
        "/v1/libraries",
        method="POST",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"name": uniq("raw")}).encode(),
    )
    assert r.status == 201
    assert r.content_type.startswith("application/json")
    body = r.json()
    assert "owner_id" in body and "chunk_size" in body, body
    client.beta.libraries.delete(library_id=body["id"])


def test_create_with_chunk_size_and_owner_type(client):
    lib = assert_library(client.beta.libraries.create(name=uniq("lib"), chunk_size=256, owner_type="Workspace"))
    assert lib.chunk_size == 256
    assert lib.owner_type == "Workspace"
    assert opt(lib.description) is None


def test_create_without_name_is_422(client):
    r = raw_request(
        "/v1/libraries",
        method="POST",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"description": "no name"}).encode(),
    )
    assert r.status == 422
    detail = r.json().get("detail")
    assert isinstance(detail, list) and detail and isinstance(detail[0]["loc"], list)


def test_list_search_and_pagination(client, other_client):
    prefix = uniq("listlib")
    made = [client.beta.libraries.create(name=f"{prefix}-{i}") for i in range(3)]

    res = client.beta.libraries.list(search=prefix)
    assert [l.id for l in res.data] == [l.id for l in reversed(made)], "newest first"
    for l in res.data:
        assert_library(l)
    assert_pagination(res.pagination, 3, 0, 100)
    assert len(client.beta.libraries.list(search=prefix.upper()).data) == 3, "case-insensitive"

    p0 = client.beta.libraries.list(search=prefix, page_size=2)
    assert [l.id for l in p0.data] == [made[2].id, made[1].id]
    assert_pagination(p0.pagination, 3, 0, 2)
    assert isinstance(opt(p0.next_page_token), str), p0

    p1 = client.beta.libraries.list(search=prefix, page_size=2, page_token=p0.next_page_token)
    assert [l.id for l in p1.data] == [made[0].id]
    assert_pagination(p1.pagination, 3, 1, 2)
    assert opt(p1.next_page_token) is None

    by_page = client.beta.libraries.list(search=prefix, page_size=2, page=1)
    assert [l.id for l in by_page.data] == [made[0].id]

    assert other_client.beta.libraries.list(search=prefix).data == []
    assert len(client.beta.libraries.list(search=prefix, filter_owned_by_me=True).data) == 3


def test_update_patch_and_deprecated_put(client):
    lib = new_library(client)
    name = uniq("renamed")
    up = assert_library(client.beta.libraries.update(library_id=lib.id, name=name, description="new text"))
    assert up.id == lib.id
    assert up.name == name
    assert up.description == "new text"
    assert up.updated_at >= lib.updated_at
    assert up.created_at == lib.created_at

    cleared = client.beta.libraries.update(library_id=lib.id, description=None)
    assert cleared.name == name, "the name stays"
    assert opt(cleared.description) is None, "null clears the description"

    # libraries_update_v1: the deprecated PUT.
    put = assert_library(client.beta.libraries.libraries_update_v1(library_id=lib.id, name=name + "-put", description="put"))
    assert put.name == name + "-put"
    assert put.description == "put"
    assert client.beta.libraries.get(library_id=lib.id).name == name + "-put"


def test_delete_then_404(client):
    lib = new_library(client)
    doc = upload_done(client, lib.id, f"{uniq('doc')}.txt", "a document of a deleted library")
    link = client.beta.libraries.documents.get_signed_url(library_id=lib.id, document_id=doc.id)
    deleted = client.beta.libraries.delete(library_id=lib.id)
    if deleted is not None:
        assert_library(deleted)
        assert deleted.id == lib.id
    expect_status(lambda: client.beta.libraries.get(library_id=lib.id), 404, "get after delete")
    expect_status(lambda: client.beta.libraries.delete(library_id=lib.id), 404, "delete twice")
    assert client.beta.libraries.list(search=lib.name).data == []
    expect_status(lambda: client.beta.libraries.documents.get(library_id=lib.id, document_id=doc.id), 404)
    assert fetch_signed(link)[0] == 404, "its documents' signed links are dead"


def test_unknown_and_foreign_libraries_are_404(client, other_client):
    expect_status(lambda: client.beta.libraries.get(library_id=random_id()), 404)
    expect_status(lambda: client.beta.libraries.update(library_id=random_id(), name="x"), 404)
    lib = new_library(client)
    expect_status(lambda: other_client.beta.libraries.get(library_id=lib.id), 404)
    expect_status(lambda: other_client.beta.libraries.update(library_id=lib.id, name="x"), 404)
    expect_status(lambda: other_client.beta.libraries.delete(library_id=lib.id), 404)
    expect_status(lambda: other_client.beta.libraries.documents.list(library_id=lib.id), 404)
    expect_status(lambda: other_client.beta.libraries.accesses.list(library_id=lib.id), 404)


def test_owner_id_is_the_workspace_id(client, other_client):
    lib = new_library(client)
    other_owner = owner_id_of(other_client)
    assert other_owner != lib.owner_id
    if os.environ.get("TRAMONTANE_OTHER_WORKSPACE_ID"):
        assert other_owner == os.environ["TRAMONTANE_OTHER_WORKSPACE_ID"]


# --------------------------------------------------------------------------- documents


def test_upload_status_get_and_counts(client):
    lib = new_library(client)
    fx = fixture_docs()
    d = assert_document(upload(client, lib.id, fx.md.file_name, fx.md.text), lib.id)
    assert d.name == fx.md.file_name
    assert d.extension == "md"
    assert d.size == len(fx.md.text.encode())
    assert d.hash == sha256(fx.md.text)
    assert d.uploaded_by_id == lib.owner_id
    assert d.process_status in ("todo", "in_progress", "done"), d.process_status

    st = wait_done(client, lib.id, d.id)
    assert st.process_status == "done"
    assert st.processing_status == "Completed"

    got = assert_document(client.beta.libraries.documents.get(library_id=lib.id, document_id=d.id), lib.id)
    assert got.process_status == "done"
    assert got.processing_status == "Completed"
    assert got.tokens_processing_total > 0
    assert opt(got.last_processed_at) is not None
    assert got.created_at == d.created_at

    # An explicit part Content-Type.
    txt = upload_done(client, lib.id, fx.txt.file_name, fx.txt.text)
    assert txt.extension == "txt"
    assert (opt(txt.mime_type) or "").split(";")[0] == "text/plain"
    html = upload(client, lib.id, fx.html.file_name, fx.html.text, content_type="text/html")
    wait_done(client, lib.id, html.id)
    l = client.beta.libraries.get(library_id=lib.id)
    assert l.nb_documents == 3
    assert l.total_size == sum(len(x.text.encode()) for x in (fx.md, fx.txt, fx.html))


def test_documents_list_sort_search_pagination(client):
    lib, fx, docs = library_with_docs(client)

    def ids(res):
        return [d.id for d in res.data]

    res = client.beta.libraries.documents.list(library_id=lib.id)
    for d in res.data:
        assert_document(d, lib.id)
    assert ids(res) == [docs["html"].id, docs["txt"].id, docs["md"].id], "newest first"
    assert_pagination(res.pagination, 3, 0, 100)
    assert all(d.process_status == "done" for d in res.data)

    asc = client.beta.libraries.documents.list(library_id=lib.id, sort_order="asc")
    assert ids(asc) == [docs["md"].id, docs["txt"].id, docs["html"].id]
    names = [d.name for d in client.beta.libraries.documents.list(library_id=lib.id, sort_by="name", sort_order="asc").data]
    assert names == sorted(names)
    sizes = [d.size for d in client.beta.libraries.documents.list(library_id=lib.id, sort_by="size", sort_order="desc").data]
    assert sizes == sorted(sizes, reverse=True)

    found = client.beta.libraries.documents.list(library_id=lib.id, search=fx.txt.file_name[:12].upper())
    assert ids(found) == [docs["txt"].id]
    assert_pagination(found.pagination, 1, 0, 100)
    none = client.beta.libraries.documents.list(library_id=lib.id, search=uniq("nothing"))
    assert none.data == []
    assert_pagination(none.pagination, 0, 0, 100)

    p0 = client.beta.libraries.documents.list(library_id=lib.id, page_size=2)
    assert ids(p0) == [docs["html"].id, docs["txt"].id]
    assert_pagination(p0.pagination, 3, 0, 2)
    p1 = client.beta.libraries.documents.list(library_id=lib.id, page_size=2, page=1)
    assert ids(p1) == [docs["md"].id]
    assert_pagination(p1.pagination, 3, 1, 2)


def test_text_content_and_pages(client):
    lib, fx, docs = library_with_docs(client)

    def text(kind, **kw):
        return client.beta.libraries.documents.text_content(library_id=lib.id, document_id=docs[kind].id, **kw).text

    md = text("md")
    assert "Winds of the Languedoc" in md and f"Marker {fx.tokens['md']}" in md, md
    assert "**" not in md and "# " not in md, f"markdown markup is stripped: {md}"
    assert "front matter" not in md
    assert text("txt").strip() == fx.txt.text.strip()
    html = text("html")
    assert "Cers and marin" in html and fx.tokens["html"] in html, html
    assert "boilerplate" not in html and "<" not in html, f"no markup, nav, footer or script: {html}"

    # Formats without pages have one page.
    assert text("md", page_start=1, page_end=1) == md
    assert text("md", page_start=1) == md
    assert text("md", page_end=1) == md
    expect_status(lambda: text("md", page_start=3, page_end=2), (400, 422), "page_end before page_start")


def test_pdf_pages_and_text_content_ranges(client):
    lib = new_library(client)
    pages = [["Page one about winds.", "The tramontane is cold."], ["Page two about the mistral."], ["Page three closes."]]
    pdf = make_pdf(pages)
    d = upload_bytes(client, lib.id, f"{uniq('report')}.pdf", pdf, content_type="application/pdf")
    assert d.extension == "pdf" and d.size == len(pdf)
    wait_done(client, lib.id, d.id)
    got = client.beta.libraries.documents.get(library_id=lib.id, document_id=d.id)
    assert got.number_of_pages == 3
    assert got.mime_type == "application/pdf"

    def text(**kw):
        return client.beta.libraries.documents.text_content(library_id=lib.id, document_id=d.id, **kw).text

    full = text()
    assert all(line in full for p in pages for line in p), full
    assert text(page_start=2, page_end=2).strip() == "\n".join(pages[1])
    from2 = text(page_start=2)
    assert pages[1][0] in from2 and pages[2][0] in from2 and pages[0][0] not in from2, from2
    to1 = text(page_end=1)
    assert pages[0][1] in to1 and pages[1][0] not in to1, to1


def test_unprocessable_file_ends_in_error_and_text_is_409(client):
    lib = new_library(client)
    d = upload_bytes(client, lib.id, f"{uniq('blob')}.bin", bytes([0, 1, 2, 255, 254, 0, 7]))
    deadline = time.monotonic() + 30
    while True:
        st = client.beta.libraries.documents.status(library_id=lib.id, document_id=d.id)
        if st.process_status == "error" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert st.process_status == "error", st
    assert st.processing_status == "Failed"
    assert client.beta.libraries.documents.get(library_id=lib.id, document_id=d.id).process_status == "error"
    # The reason is an extra key (docs/libraries.md): not in the SDK model, visible on the wire.
    reason = raw_request(f"/v1/libraries/{lib.id}/documents/{d.id}").json().get("process_status_reason")
    assert isinstance(reason, str) and reason
    expect_status(lambda: client.beta.libraries.documents.text_content(library_id=lib.id, document_id=d.id), 409)


def test_expires_at(client):
    lib, _, docs = library_with_docs(client)
    doc_id = docs["txt"].id
    future = datetime(2031, 1, 1, tzinfo=timezone.utc)
    up = client.beta.libraries.documents.update(library_id=lib.id, document_id=doc_id, expires_at=future)
    assert opt(up.expires_at) == future
    cleared = client.beta.libraries.documents.update(library_id=lib.id, document_id=doc_id, expires_at=None)
    assert opt(cleared.expires_at) is None

    client.beta.libraries.documents.update(
        library_id=lib.id, document_id=doc_id, expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)
    )
    expect_status(lambda: client.beta.libraries.documents.get(library_id=lib.id, document_id=doc_id), 404, "expired")
    assert [d.id for d in client.beta.libraries.documents.list(library_id=lib.id).data] == [docs["html"].id, docs["md"].id]
    assert client.beta.libraries.get(library_id=lib.id).nb_documents == 2


def test_signed_urls(client):
    lib, fx, docs = library_with_docs(client)
    url = client.beta.libraries.documents.get_signed_url(library_id=lib.id, document_id=docs["html"].id)
    assert isinstance(url, str)
    assert url.startswith(URL + "/"), url
    status, headers, body = fetch_signed(url)
    assert status == 200
    assert body.decode() == fx.html.text, "the original bytes"
    assert headers.get("content-disposition", "").startswith("attachment")

    turl = client.beta.libraries.documents.extracted_text_signed_url(library_id=lib.id, document_id=docs["html"].id)
    assert isinstance(turl, str) and turl != url
    status, headers, body = fetch_signed(turl)
    assert status == 200
    assert headers.get("content-type", "").startswith("text/plain")
    extracted = client.beta.libraries.documents.text_content(library_id=lib.id, document_id=docs["html"].id).text
    assert body.decode() == extracted

    # A tampered signature is refused.
    u = urllib.parse.urlsplit(url)
    q = dict(urllib.parse.parse_qsl(u.query))
    assert q.get("signature"), url
    q["signature"] = ("B" if q["signature"][0] == "A" else "A") + q["signature"][1:]
    status, _, _ = fetch_signed(urllib.parse.urlunsplit(u._replace(query=urllib.parse.urlencode(q))))
    assert 400 <= status < 500, status

    r = raw_request(f"/v1/libraries/{lib.id}/documents/{docs['md'].id}/signed-url")
    assert r.status == 200
    assert r.content_type.startswith("application/json")
    assert isinstance(r.json(), str)


def test_update_attributes_filters_and_deprecated_put(client):
    lib, _, docs = library_with_docs(client)
    doc_id = docs["md"].id
    name = f"{uniq('renamed')}.md"
    attrs = {"team": "red", "year": 2024, "draft": False, "tags": ["a", "b"]}
    up = assert_document(client.beta.libraries.documents.update(library_id=lib.id, document_id=doc_id, name=name, attributes=attrs), lib.id)
    assert up.name == name
    assert up.attributes == attrs
    got = client.beta.libraries.documents.get(library_id=lib.id, document_id=doc_id)
    assert got.name == name and got.attributes == attrs
    assert got.process_status == "done", "a rename does not reprocess"

    filtered = client.beta.libraries.documents.list(library_id=lib.id, filters_attributes=json.dumps({"team": "red"}))
    assert [d.id for d in filtered.data] == [doc_id]
    cond = client.beta.libraries.documents.list(
        library_id=lib.id, filters_attributes=json.dumps({"field": "year", "op": "gte", "value": 2025})
    )
    assert cond.data == []

    put = client.beta.libraries.documents.libraries_documents_update_v1(
        library_id=lib.id, document_id=doc_id, name=name + ".bak", attributes=None
    )
    assert put.name == name + ".bak"
    assert not opt(put.attributes), put.attributes


def test_reprocess_204(client):
    lib, _, docs = library_with_docs(client)
    doc_id = docs["txt"].id
    before = client.beta.libraries.documents.get(library_id=lib.id, document_id=doc_id)
    assert client.beta.libraries.documents.reprocess(library_id=lib.id, document_id=doc_id) is None
    wait_done(client, lib.id, doc_id)
    after = client.beta.libraries.documents.get(library_id=lib.id, document_id=doc_id)
    assert after.last_processed_at > before.last_processed_at, "processed again"
    assert after.tokens_processing_total == before.tokens_processing_total


def test_document_delete_204(client):
    lib, _, docs = library_with_docs(client)
    doc_id = docs["txt"].id
    link = client.beta.libraries.documents.get_signed_url(library_id=lib.id, document_id=doc_id)
    assert client.beta.libraries.documents.delete(library_id=lib.id, document_id=doc_id) is None
    assert fetch_signed(link)[0] == 404, "a deleted document's signed link is dead"
    expect_status(lambda: client.beta.libraries.documents.get(library_id=lib.id, document_id=doc_id), 404)
    expect_status(lambda: client.beta.libraries.documents.text_content(library_id=lib.id, document_id=doc_id), 404)
    expect_status(lambda: client.beta.libraries.documents.delete(library_id=lib.id, document_id=doc_id), 404)
    res = client.beta.libraries.documents.list(library_id=lib.id)
    assert [d.id for d in res.data] == [docs["html"].id, docs["md"].id]
    l = client.beta.libraries.get(library_id=lib.id)
    assert l.nb_documents == 2
    assert l.total_size == docs["html"].size + docs["md"].size


def test_unknown_documents_404(client):
    lib = new_library(client)
    doc_id = random_id()
    expect_status(lambda: client.beta.libraries.documents.get(library_id=lib.id, document_id=doc_id), 404)
    expect_status(lambda: client.beta.libraries.documents.status(library_id=lib.id, document_id=doc_id), 404)
    expect_status(lambda: client.beta.libraries.documents.get_signed_url(library_id=lib.id, document_id=doc_id), 404)
    expect_status(lambda: client.beta.libraries.documents.reprocess(library_id=lib.id, document_id=doc_id), 404)
    expect_status(lambda: upload(client, random_id(), "x.txt", "x"), 404, "upload into an unknown library")


# --------------------------------------------------------------------------- sharing


def test_sharing_viewer_editor_revoke(client, other_client):
    other_ws = other_workspace_id()
    lib, fx, docs = library_with_docs(client)

    # Not shared: invisible to the other workspace.
    expect_status(lambda: other_client.beta.libraries.get(library_id=lib.id), 404)
    expect_status(lambda: other_client.beta.libraries.documents.get(library_id=lib.id, document_id=docs["md"].id), 404)
    expect_status(lambda: upload(other_client, lib.id, "x.txt", "x"), 404)
    assert other_client.beta.libraries.list(search=lib.name).data == []

    before = client.beta.libraries.accesses.list(library_id=lib.id)
    assert len(before.data) == 1
    owner = before.data[0]
    assert (owner.library_id, owner.role, owner.share_with_uuid) == (lib.id, "Owner", lib.owner_id)
    assert isinstance(owner.org_id, str)

    # Viewer.
    sh = client.beta.libraries.accesses.update_or_create(
        library_id=lib.id, level="Viewer", share_with_uuid=other_ws, share_with_type="Workspace"
    )
    assert (sh.library_id, sh.role, sh.share_with_type, sh.share_with_uuid) == (lib.id, "Viewer", "Workspace", other_ws)
    assert isinstance(sh.org_id, str)
    listed = client.beta.libraries.accesses.list(library_id=lib.id).data
    assert [(s.role, s.share_with_type, s.share_with_uuid) for s in listed] == [
        ("Owner", "Workspace", lib.owner_id),
        ("Viewer", "Workspace", other_ws),
    ]

    seen = assert_library(other_client.beta.libraries.get(library_id=lib.id))
    assert seen.owner_id == lib.owner_id and seen.nb_documents == 3
    assert [l.id for l in other_client.beta.libraries.list(search=lib.name).data] == [lib.id]
    assert other_client.beta.libraries.list(search=lib.name, filter_owned_by_me=True).data == []
    found = other_client.beta.libraries.documents.list(library_id=lib.id, search=fx.txt.file_name)
    assert [d.id for d in found.data] == [docs["txt"].id]
    assert other_client.beta.libraries.documents.get(library_id=lib.id, document_id=docs["md"].id).name == fx.md.file_name
    t = other_client.beta.libraries.documents.text_content(library_id=lib.id, document_id=docs["txt"].id).text
    assert t.strip() == fx.txt.text.strip()
    url = other_client.beta.libraries.documents.get_signed_url(library_id=lib.id, document_id=docs["txt"].id)
    assert fetch_signed(url)[2].decode() == fx.txt.text
    assert len(other_client.beta.libraries.accesses.list(library_id=lib.id).data) == 2

    err = expect_status(lambda: upload(other_client, lib.id, "viewer.txt", "a viewer cannot upload"), 403, "Viewer upload")
    assert isinstance(err, SDKError) and not isinstance(err, HTTPValidationError)
    expect_status(
        lambda: other_client.beta.libraries.documents.update(library_id=lib.id, document_id=docs["md"].id, name="x.md"),
        403,
        "Viewer update",
    )
    expect_status(lambda: other_client.beta.libraries.documents.delete(library_id=lib.id, document_id=docs["md"].id), 403)
    expect_status(lambda: other_client.beta.libraries.documents.reprocess(library_id=lib.id, document_id=docs["md"].id), 403)
    expect_status(lambda: other_client.beta.libraries.update(library_id=lib.id, name="x"), 403, "Viewer rename")
    expect_status(lambda: other_client.beta.libraries.delete(library_id=lib.id), 403, "Viewer delete library")
    expect_status(
        lambda: other_client.beta.libraries.accesses.update_or_create(
            library_id=lib.id, level="Editor", share_with_uuid=other_ws, share_with_type="Workspace"
        ),
        403,
        "Viewer re-shares",
    )

    # Editor: the same grant is updated, not duplicated.
    ed = client.beta.libraries.accesses.update_or_create(
        library_id=lib.id, level="Editor", share_with_uuid=other_ws, share_with_type="Workspace"
    )
    assert ed.role == "Editor"
    assert [s.role for s in client.beta.libraries.accesses.list(library_id=lib.id).data] == ["Owner", "Editor"]
    name = f"{uniq('by-editor')}.txt"
    up = upload(other_client, lib.id, name, "uploaded by the editor workspace")
    assert up.library_id == lib.id
    assert up.uploaded_by_id == other_ws
    wait_done(other_client, lib.id, up.id)
    assert client.beta.libraries.documents.get(library_id=lib.id, document_id=up.id).name == name
    assert other_client.beta.libraries.documents.update(library_id=lib.id, document_id=up.id, name="e.txt").name == "e.txt"
    expect_status(lambda: other_client.beta.libraries.delete(library_id=lib.id), 403, "Editor delete library")
    expect_status(
        lambda: other_client.beta.libraries.accesses.delete(library_id=lib.id, share_with_uuid=other_ws, share_with_type="Workspace"),
        403,
        "Editor unshares",
    )

    # Revoke.
    removed = client.beta.libraries.accesses.delete(library_id=lib.id, share_with_uuid=other_ws, share_with_type="Workspace")
    if removed is not None:
        assert removed.library_id == lib.id and removed.share_with_uuid == other_ws
    assert [s.role for s in client.beta.libraries.accesses.list(library_id=lib.id).data] == ["Owner"]
    expect_status(lambda: other_client.beta.libraries.get(library_id=lib.id), 404, "after revoke")
    expect_status(
        lambda: client.beta.libraries.accesses.delete(library_id=lib.id, share_with_uuid=other_ws, share_with_type="Workspace"),
        404,
        "revoke twice",
    )


def test_bad_share_targets_422(client):
    lib = new_library(client)

    def share(typ, uuid, level="Viewer"):
        return lambda: client.beta.libraries.accesses.update_or_create(
            library_id=lib.id, level=level, share_with_uuid=uuid, share_with_type=typ
        )

    expect_status(share("User", random_id()), 422, "share with a user")
    expect_status(share("Workspace", "ws_" + random_id()), 422, "unknown workspace")
    expect_status(share("Workspace", lib.owner_id), 422, "the owner itself")
    with warnings.catch_warnings():  # pydantic warns about the value outside ShareEnum, then sends it
        warnings.simplefilter("ignore")
        expect_status(share("Workspace", other_workspace_id(), "Owner"), 422, "level Owner")
    expect_status(lambda: client.beta.libraries.accesses.list(library_id=random_id()), 404)


def test_org_sharing(client, other_client):
    lib = new_library(client)
    org_id = client.beta.libraries.accesses.list(library_id=lib.id).data[0].org_id
    sh = client.beta.libraries.accesses.update_or_create(library_id=lib.id, level="Viewer", share_with_uuid=org_id, share_with_type="Org")
    assert sh.share_with_type == "Org" and sh.role == "Viewer"
    try:
        assert other_client.beta.libraries.get(library_id=lib.id).id == lib.id
        expect_status(lambda: upload(other_client, lib.id, "x.txt", "x"), 403)
    finally:
        client.beta.libraries.accesses.delete(library_id=lib.id, share_with_uuid=org_id, share_with_type="Org")
        safe_delete_library(client, lib.id)
    expect_status(lambda: other_client.beta.libraries.get(library_id=lib.id), 404)
