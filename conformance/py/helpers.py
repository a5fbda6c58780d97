"""Shared helpers for the Python-SDK conformance suites.

The server is started by ../run.sh, which exports:
  TRAMONTANE_URL        base URL of the running server, e.g. http://127.0.0.1:PORT
  TRAMONTANE_KEY        API key of the default workspace (bootstrap key)
  TRAMONTANE_OTHER_KEY  API key of a second workspace (cross-workspace 404 tests)
Optional:
  TRAMONTANE_MODEL            model used to create agents (default mistral-medium-latest)
  TRAMONTANE_EXPECT_MODELS    comma-separated model ids GET /v1/models must list
                              (default: TRAMONTANE_MODEL)
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Union

import pytest

# SDK 2.x exposes the client under mistralai.client; 1.x used the top-level package.
try:  # pragma: no cover - depends on the installed SDK
    from mistralai.client import Mistral  # type: ignore
    from mistralai.client import errors as sdk_errors  # type: ignore
except ImportError:  # pragma: no cover
    from mistralai import Mistral  # type: ignore
    from mistralai import models as sdk_errors  # type: ignore

SDKError = sdk_errors.SDKError
HTTPValidationError = sdk_errors.HTTPValidationError
MistralError = getattr(sdk_errors, "MistralError", SDKError)


def _env(name: str) -> str:
    v = os.environ.get(name)
    if not v:
        raise RuntimeError(
            f"{name} is not set: run these suites through conformance/run.sh "
            "(or export TRAMONTANE_URL, TRAMONTANE_KEY and TRAMONTANE_OTHER_KEY yourself)"
        )
    return v


URL = _env("TRAMONTANE_URL").rstrip("/")
KEY = _env("TRAMONTANE_KEY")
OTHER_KEY = _env("TRAMONTANE_OTHER_KEY")
MODEL = os.environ.get("TRAMONTANE_MODEL") or "mistral-medium-latest"
EXPECT_MODELS = [
    m.strip() for m in (os.environ.get("TRAMONTANE_EXPECT_MODELS") or MODEL).split(",") if m.strip()
]


def make_client(api_key: str = KEY) -> Mistral:
    """An SDK client for `api_key` pointed at the server under test (no retries)."""
    return Mistral(api_key=api_key, server_url=URL, timeout_ms=30000)


def uniq(prefix: str = "conf") -> str:
    """Unique lower-case name for test resources."""
    return f"{prefix}-{int(time.time() * 1000):x}-{secrets.token_hex(4)}"


def random_id() -> str:
    return str(uuid.uuid4())


def expect_status(fn: Callable[[], Any], expected: Union[int, str, Iterable[int]], what: str = "") -> Any:
    """Call fn(); it must raise an SDK HTTP error whose status matches `expected`
    (an int, an iterable of ints, or "4xx"). Returns the exception."""
    prefix = f"{what}: " if what else ""
    try:
        result = fn()
    except MistralError as err:  # SDKError and HTTPValidationError both derive from it
        sc = err.status_code
        msg = f"{prefix}status {sc} (body: {str(getattr(err, 'body', ''))[:300]})"
        if expected == "4xx":
            assert 400 <= sc < 500, f"{msg}; expected 4xx"
        elif isinstance(expected, int):
            assert sc == expected, f"{msg}; expected {expected}"
        else:
            exp = list(expected)
            assert sc in exp, f"{msg}; expected one of {exp}"
        return err
    pytest.fail(f"{prefix}expected HTTP error {expected!r}, got success: {str(result)[:300]}")


@dataclass
class RawResponse:
    status: int
    headers: dict
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def raw_request(
    path_or_url: str,
    *,
    key: Optional[str] = KEY,
    method: str = "GET",
    headers: Optional[dict] = None,
    body: Optional[bytes] = None,
) -> RawResponse:
    """Plain urllib request (no SDK). `path_or_url` may be a path on the server or a full URL."""
    url = path_or_url if path_or_url.startswith(("http://", "https://")) else URL + path_or_url
    h = dict(headers or {})
    if key is not None:
        h["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(url, data=body, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return RawResponse(res.status, {k.lower(): v for k, v in res.headers.items()}, res.read())
    except urllib.error.HTTPError as e:
        return RawResponse(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def weather_tool(name: str = "get_weather") -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": "Get the current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }


def create_agent(client: Mistral, **overrides: Any):
    kwargs = {
        "model": MODEL,
        "name": uniq("agent"),
        "instructions": "You are a helpful conformance-test agent.",
    }
    kwargs.update(overrides)
    return client.beta.agents.create(**kwargs)


def assert_agent(a: Any) -> None:
    """Invariants for every Agent object beyond the SDK's pydantic schema."""
    assert a.object == "agent"
    assert isinstance(a.id, str) and a.id
    assert isinstance(a.model, str)
    assert isinstance(a.name, str)
    assert isinstance(a.version, int)
    assert isinstance(a.versions, list)
    assert a.version in a.versions, f"versions {a.versions} must include {a.version}"
    assert a.created_at.tzinfo is not None
    assert a.updated_at.tzinfo is not None
    assert isinstance(a.deployment_chat, bool)
    assert isinstance(a.source, str)
    for t in a.tools or []:
        assert getattr(t, "type", None) != "UNKNOWN", f"tool did not match any SDK schema: {t}"


def library_id_for_tests(client: Mistral) -> str:
    """An id for document_library tools: a real library of the client's workspace (the
    Libraries API must answer; shared/API.md §8)."""
    lib = client.beta.libraries.create(name=uniq("lib"), description="conformance")
    assert isinstance(lib.id, str) and lib.id
    return lib.id
