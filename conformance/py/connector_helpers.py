"""Helpers for the built-in connector suites (web_search, code_interpreter, image_generation).
Wire contract: shared/API.md §4.1 (chunks), §5.2 (events), §7.1 (connector outputs); behaviour:
docs/connectors.md.

run.sh configures the connectors against the fake upstream (FAKEUPSTREAM_URL): a fake SearXNG
whose results are the pages /pages/1.html, /pages/2.html (and the news page /pages/3.html for
web_search_premium) served by the same fake, and a fake images API answering a tiny PNG.
code_interpreter runs real bubblewrap sandboxes. GET /healthz tells which connectors are
available; suites skip what is not (code_interpreter never skips when CI is set).
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
import urllib.request
from typing import Any, Optional

import pytest

from conv_helpers import chunk_dict, history, normalize_content
from helpers import URL

FAKE = (os.environ.get("FAKEUPSTREAM_URL") or "").rstrip("/")
IN_CI = (os.environ.get("CI") or "").lower() in ("true", "1")

PAGES = {
    1: {"title": "The Tramontane wind", "path": "/pages/1.html"},
    2: {"title": "Mistral and tramontane compared", "path": "/pages/2.html"},
    3: {"title": "Tramontane gusts close the port of Sète", "path": "/pages/3.html"},
}

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def page_url(n: int) -> str:
    return FAKE + PAGES[n]["path"]


def connector_status() -> dict:
    """GET /healthz's connector statuses ({} when the server does not report them)."""
    try:
        with urllib.request.urlopen(URL + "/healthz", timeout=10) as res:
            return json.loads(res.read()).get("connectors") or {}
    except Exception:  # noqa: BLE001 - any failure means "unknown"
        return {}


def skip_unless(name: str, needs_fake: bool = False):
    """A pytest mark skipping a module's tests unless the connector is available (and, with
    needs_fake, backed by run.sh's fake upstream). code_interpreter never skips in CI."""
    st = connector_status().get(name)
    reason: Optional[str] = None
    if needs_fake and not FAKE:
        reason = f"{name}: needs run.sh's fake upstream (FAKEUPSTREAM_URL)"
    elif st != "available" and not (name == "code_interpreter" and IN_CI):
        reason = f"{name} is {st or 'not reported by /healthz'} on this server"
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def fake_requests(suffix: str) -> list:
    """The fake upstream's recorded requests whose path ends with suffix."""
    if not FAKE:
        return []
    with urllib.request.urlopen(FAKE + "/_requests", timeout=30) as res:
        return [r for r in json.loads(res.read()) if r.get("path", "").endswith(suffix)]


def searxng_requests(query: str) -> list:
    """The fake SearXNG's /search requests whose q equals query, as parsed query dicts."""
    out = []
    for r in fake_requests("/search"):
        params = {k: v[0] for k, v in urllib.parse.parse_qs(r.get("query") or "").items()}
        if params.get("q") == query:
            out.append(params)
    return out


def strip_citations(text: str) -> str:
    """Text without [n] citation markers (whether the server keeps them in text chunks or not)."""
    return re.sub(r"\s*\[\d{1,3}\]", "", text)


def chunks_of(content: Any, typ: str) -> list:
    return [c for c in content if getattr(c, "type", None) == typ] if isinstance(content, list) else []


def download_png(client, file_id: str) -> bytes:
    """Download a file through the SDK (an httpx response) and assert it is a PNG."""
    res = client.files.download(file_id=file_id)
    try:
        assert res.status_code == 200
        assert res.headers.get("content-type", "").startswith("application/octet-stream")
        data = res.read()
    finally:
        res.close()
    assert data[:8] == PNG_MAGIC, f"file {file_id} starts with the PNG signature: {data[:16]!r}"
    return data


def assert_tool_file(ch: Any, tool: str, file_type: Optional[str] = None, file_name: Any = None) -> None:
    """Assert a tool_file chunk as parsed by the SDK (ToolFileChunk)."""
    assert type(ch).__name__ == "ToolFileChunk", f"{type(ch).__name__}: {ch}"
    assert ch.type == "tool_file"
    assert ch.tool == tool
    assert isinstance(ch.file_id, str) and ch.file_id
    if isinstance(file_name, re.Pattern):
        assert file_name.match(ch.file_name or ""), ch.file_name
    elif file_name is not None:
        assert ch.file_name == file_name
    if file_type is not None:
        assert ch.file_type == file_type


def assert_streamed_chunks_match_history(client, s, output_index: int):
    """API.md §5.2: a message.output.delta's content is a string token or one output chunk. The
    stream of a message must carry the same chunk objects (tool_reference, tool_file) as the
    stored message.output, in the same order. Returns the stored entry."""
    o = next(x for x in s.outputs if x.output_index == output_index)
    assert o.type == "message.output"
    stored = next((e for e in history(client, s.conversation_id) if e.id == o.id), None)
    assert stored is not None, f"stored entry {o.id}"
    stored_chunks = [c for c in normalize_content(stored.content) if c.get("type") != "text"]
    assert stored_chunks, "the stored message has chunk objects"
    assert o.chunks == stored_chunks, (
        "the message.output.delta events carry the stored message's chunks (API.md §5.2); "
        f"streamed content: {json.dumps(o.content)[:400]}; stored chunks: {json.dumps(stored_chunks)[:400]}"
    )
    return stored


__all__ = [n for n in globals() if not n.startswith("_")] + ["chunk_dict"]
