"""Files API (client.files) through the official Python SDK.

Wire contract: shared/API.md §9. The Files API has no 422 handler: every 4xx is SDKError.
"""

import json
import re
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from helpers import expect_status, random_id, raw_request, uniq


def _jsonl(tag: str) -> bytes:
    lines = [
        {"messages": [{"role": "user", "content": f"hello {tag}"}, {"role": "assistant", "content": "hi"}]},
        {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]},
    ]
    return ("\n".join(json.dumps(x) for x in lines) + "\n").encode()


def _upload(client, tag, *, purpose="fine-tune", ext="jsonl", content=None):
    body = content if content is not None else _jsonl(tag)
    file_name = f"{tag}.{ext}"
    f = client.files.upload(file={"file_name": file_name, "content": body}, purpose=purpose)
    return f, body, file_name


def _download(client, file_id) -> bytes:
    res = client.files.download(file_id=file_id)
    try:
        assert res.status_code == 200
        assert res.headers.get("content-type", "").startswith("application/octet-stream")
        return res.read()
    finally:
        res.close()


def _assert_file(f):
    assert isinstance(f.id, str) and f.id
    assert f.object == "file"
    assert isinstance(f.size_bytes, int)
    assert isinstance(f.created_at, int), "created_at must be unix seconds (int)"
    assert abs(f.created_at - time.time()) < 600, f"created_at {f.created_at} is not ~now"
    assert isinstance(f.filename, str)
    assert isinstance(f.purpose, str)
    assert isinstance(f.sample_type, str)
    assert isinstance(f.source, str)


def _tamper(url: str) -> str:
    parts = urlsplit(url)
    q = parse_qsl(parts.query, keep_blank_values=True)
    assert q, f"signed URL has no query parameters: {url}"
    idx = next((i for i, (k, _) in enumerate(q) if re.search(r"sig|signature|hmac|token", k, re.I)), None)
    if idx is None:
        idx = max(range(len(q)), key=lambda i: len(q[i][1]))
    k, v = q[idx]
    q[idx] = (k, v[:-1] + ("B" if v.endswith("A") else "A"))
    return urlunsplit(parts._replace(query=urlencode(q)))


# --------------------------------------------------------------------------- upload / retrieve / download


def test_upload_retrieve_download(client):
    tag = uniq("up")
    f, body, file_name = _upload(client, tag)
    _assert_file(f)
    assert f.filename == file_name
    assert f.size_bytes == len(body)
    assert f.purpose == "fine-tune"
    assert f.source == "upload"

    r = client.files.retrieve(file_id=f.id)
    _assert_file(r)
    assert (r.id, r.filename, r.size_bytes, r.purpose, r.created_at) == (
        f.id,
        file_name,
        len(body),
        "fine-tune",
        f.created_at,
    )
    assert r.deleted is False
    assert _download(client, f.id) == body


def test_binary_roundtrip(client):
    content = bytes((i * 7 + 3) & 0xFF for i in range(70000))
    f, _, _ = _upload(client, uniq("bin"), purpose="ocr", ext="bin", content=content)
    assert f.size_bytes == len(content)
    assert f.purpose == "ocr"
    assert _download(client, f.id) == content


def test_upload_batch_purpose(client):
    tag = uniq("batch")
    line = {"custom_id": "0", "body": {"max_tokens": 10, "messages": [{"role": "user", "content": tag}]}}
    f, _, _ = _upload(client, tag, purpose="batch", content=(json.dumps(line) + "\n").encode())
    assert f.purpose == "batch"
    assert client.files.retrieve(file_id=f.id).purpose == "batch"


# --------------------------------------------------------------------------- list


def test_list_filters_and_pagination(client):
    tag = uniq("lst")
    a, _, _ = _upload(client, f"{tag}-a")
    b, _, _ = _upload(client, f"{tag}-b")
    ocr, _, _ = _upload(client, f"{tag}-c", purpose="ocr", ext="txt", content=b"ocr me")
    mine = {a.id, b.id, ocr.id}

    everything = client.files.list(page_size=1000)
    assert everything.object == "list"
    for f in everything.data:
        _assert_file(f)
    assert isinstance(everything.total, int) and everything.total >= 3
    assert mine <= {f.id for f in everything.data}

    searched = client.files.list(search=tag)
    assert {f.id for f in searched.data} == mine
    assert searched.total == 3

    ft = client.files.list(search=tag, purpose="fine-tune")
    assert {f.id for f in ft.data} == {a.id, b.id}
    assert ft.total == 2
    assert [f.id for f in client.files.list(search=tag, purpose="ocr").data] == [ocr.id]

    by_sample_type = client.files.list(search=tag, sample_type=[a.sample_type]).data
    assert a.id in {f.id for f in by_sample_type}
    assert all(f.sample_type == a.sample_type for f in by_sample_type)

    assert len(client.files.list(search=tag, source=["upload"]).data) == 3
    assert client.files.list(search=tag, source=["repository"]).data == []

    p0 = client.files.list(search=tag, page=0, page_size=2)
    p1 = client.files.list(search=tag, page=1, page_size=2)
    p2 = client.files.list(search=tag, page=2, page_size=2)
    assert (len(p0.data), len(p1.data), len(p2.data)) == (2, 1, 0)
    assert p0.total == 3
    assert {f.id for f in p0.data + p1.data} == mine

    no_total = client.files.list(search=tag, include_total=False)
    assert len(no_total.data) == 3
    # total may be omitted (UNSET in the SDK model) or null when not requested
    assert not isinstance(no_total.total, int) or no_total.total == 3


# --------------------------------------------------------------------------- signed URLs


def test_signed_url(client):
    tag = uniq("sig")
    f, body, _ = _upload(client, tag)
    s = client.files.get_signed_url(file_id=f.id)
    assert isinstance(s.url, str)
    assert urlsplit(s.url).scheme in ("http", "https"), f"signed URL must be absolute: {s.url}"

    res = raw_request(s.url, key=None)
    assert res.status == 200
    assert res.body == body

    s1 = client.files.get_signed_url(file_id=f.id, expiry=1)
    assert raw_request(s1.url, key=None).status == 200

    bad = raw_request(_tamper(s.url), key=None)
    assert 400 <= bad.status < 500, f"tampered URL answered {bad.status}"

    # Altering any query parameter (e.g. pushing the expiry further out) breaks the signature.
    parts = urlsplit(s.url)
    q = parse_qsl(parts.query, keep_blank_values=True)
    for i, (k, v) in enumerate(q):
        altered = list(q)
        altered[i] = (k, str(int(v) + 1000) if v.isdigit() else v[:-1] + ("B" if v.endswith("A") else "A"))
        r2 = raw_request(urlunsplit(parts._replace(query=urlencode(altered))), key=None)
        assert 400 <= r2.status < 500, f"altered query param {k} answered {r2.status}"

    bare = urlunsplit(urlsplit(s.url)._replace(query=""))
    unsigned = raw_request(bare, key=None)
    assert 400 <= unsigned.status < 500, f"unsigned URL answered {unsigned.status}"

    other, _, _ = _upload(client, f"{tag}-other")
    assert f.id in s.url, "signed URL is expected to name the file id"
    swapped = raw_request(s.url.replace(f.id, other.id), key=None)
    assert 400 <= swapped.status < 500, f"signature reused for another file answered {swapped.status}"


def test_signed_url_of_deleted_file(client):
    f, _, _ = _upload(client, uniq("sigdel"))
    s = client.files.get_signed_url(file_id=f.id)
    client.files.delete(file_id=f.id)
    res = raw_request(s.url, key=None)
    assert 400 <= res.status < 500, f"signed URL of deleted file answered {res.status}"


# --------------------------------------------------------------------------- delete


def test_delete(client):
    tag = uniq("del")
    f, _, _ = _upload(client, tag)
    d = client.files.delete(file_id=f.id)
    assert (d.id, d.object, d.deleted) == (f.id, "file", True)
    expect_status(lambda: client.files.retrieve(file_id=f.id), 404, "retrieve deleted")
    expect_status(lambda: client.files.download(file_id=f.id), 404, "download deleted")
    expect_status(lambda: client.files.get_signed_url(file_id=f.id), 404, "signed URL of deleted")
    expect_status(lambda: client.files.delete(file_id=f.id), 404, "delete deleted")
    assert client.files.list(search=tag).data == []


# --------------------------------------------------------------------------- errors


def test_unknown_file_is_404(client):
    fid = random_id()
    expect_status(lambda: client.files.retrieve(file_id=fid), 404, "retrieve")
    expect_status(lambda: client.files.download(file_id=fid), 404, "download")
    expect_status(lambda: client.files.get_signed_url(file_id=fid), 404, "get_signed_url")
    expect_status(lambda: client.files.delete(file_id=fid), 404, "delete")


def test_cross_workspace_is_404(client, other_client):
    tag = uniq("xws")
    f, body, _ = _upload(client, tag)
    o = other_client.files
    expect_status(lambda: o.retrieve(file_id=f.id), 404, "retrieve")
    expect_status(lambda: o.download(file_id=f.id), 404, "download")
    expect_status(lambda: o.get_signed_url(file_id=f.id), 404, "get_signed_url")
    expect_status(lambda: o.delete(file_id=f.id), 404, "delete")
    assert o.list(search=tag).data == []
    assert _download(client, f.id) == body


def test_bad_key_is_401(bad_client):
    expect_status(lambda: bad_client.files.list(), 401, "list")
    expect_status(
        lambda: bad_client.files.upload(file={"file_name": "x.jsonl", "content": b"{}\n"}, purpose="fine-tune"),
        401,
        "upload",
    )
