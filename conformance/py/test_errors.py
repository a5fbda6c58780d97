"""Error responses at the wire level (urllib) and as the Python SDK surfaces them.

Wire contract: shared/API.md §0.4, §0.5.
"""

import json

import pytest

from helpers import MODEL, MistralError, expect_status, random_id, raw_request, uniq


def _json(res):
    assert res.content_type.lower().startswith("application/json"), (
        f"Content-Type must be application/json, got {res.content_type!r}"
    )
    return res.json()


def _assert_error_body(body):
    assert isinstance(body, dict)
    assert body.get("object") == "error"
    assert isinstance(body.get("message"), str) and body["message"]


@pytest.mark.parametrize("path", ["/v1/models", "/v1/agents", "/v1/files"])
def test_bad_key_401_json(path):
    res = raw_request(path, key="definitely-not-a-key")
    assert res.status == 401
    _assert_error_body(_json(res))


def test_missing_authorization_401_json():
    res = raw_request("/v1/agents", key=None)
    assert res.status == 401
    _assert_error_body(_json(res))


def test_sdk_surfaces_401(bad_client):
    err = expect_status(lambda: bad_client.beta.agents.list(), 401)
    assert isinstance(err, MistralError)
    _assert_error_body(json.loads(err.body))


def test_unknown_agent_404_json():
    res = raw_request("/v1/agents/ag_" + "e" * 32)
    assert res.status == 404
    _assert_error_body(_json(res))


def test_unknown_file_404_json():
    res = raw_request("/v1/files/" + random_id())
    assert res.status == 404
    _assert_error_body(_json(res))


def test_422_body_shape():
    body = json.dumps(
        {
            "model": MODEL,
            "name": uniq("raw422"),
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "banana"}}}],
        }
    ).encode()
    res = raw_request("/v1/agents", method="POST", headers={"Content-Type": "application/json"}, body=body)
    assert res.status == 422
    data = _json(res)
    if "detail" in data:
        assert isinstance(data["detail"], list) and data["detail"]
        for d in data["detail"]:
            assert isinstance(d["loc"], list)
            assert all(isinstance(p, (str, int)) for p in d["loc"])
            assert isinstance(d["msg"], str)
            assert isinstance(d["type"], str)


def test_healthz_without_key():
    assert raw_request("/healthz", key=None).status == 200
