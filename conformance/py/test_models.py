"""Models API (client.models) through the official Python SDK. Wire contract: shared/API.md §6.3."""

from helpers import EXPECT_MODELS, expect_status


def _assert_base_card(m):
    assert getattr(m, "type", None) == "base", f"not a base model card: {m}"
    assert isinstance(m.id, str)
    assert isinstance(m.object, str)
    assert isinstance(m.owned_by, str)
    assert isinstance(m.capabilities.completion_chat, bool)
    assert isinstance(m.max_context_length, int)
    assert isinstance(m.internal, bool)


def _matches(m, model_id):
    return m.id == model_id or model_id in (m.aliases or [])


def test_list_contains_configured_models(client):
    res = client.models.list()
    assert isinstance(res.object, str)
    data = res.data or []
    for m in data:
        assert getattr(m, "type", None) in ("base", "fine-tuned"), f"unexpected model card: {m}"
    for model_id in EXPECT_MODELS:
        found = [m for m in data if _matches(m, model_id)]
        assert found, f"GET /v1/models must list {model_id}; got {[m.id for m in data]}"
        _assert_base_card(found[0])


def test_retrieve(client):
    for model_id in EXPECT_MODELS:
        m = client.models.retrieve(model_id=model_id)
        _assert_base_card(m)
        assert _matches(m, model_id)


def test_retrieve_unknown_is_404(client):
    expect_status(lambda: client.models.retrieve(model_id="no-such-model-conformance"), 404)


def test_bad_key_is_401(bad_client):
    expect_status(lambda: bad_client.models.list(), 401)
