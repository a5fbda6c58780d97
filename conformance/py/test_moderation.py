"""Moderation (client.classifiers.moderate / moderate_chat) and guardrails through the official
Python SDK. The fake upstream's moderation model flags "conf-unsafe" (violence_and_threats) and
"flag-<category>"; see conformance/run.sh."""

from helpers import MODEL, create_agent, expect_status

GUARD = [
    {
        "block_on_error": False,
        "moderation_llm_v2": {
            "model_name": "mistral-moderation-2603",
            "custom_category_thresholds": {"violence_and_threats": 0.5},
            "ignore_other_categories": False,
        },
    }
]


def test_moderate(client):
    res = client.classifiers.moderate(model="mistral-moderation-latest", inputs=["hello", "conf-unsafe words"])
    assert res.model == "mistral-moderation-latest"
    assert len(res.results) == 2
    assert res.results[0].categories["violence_and_threats"] is False
    assert res.results[1].categories["violence_and_threats"] is True


def test_moderate_chat(client):
    res = client.classifiers.moderate_chat(
        model="mistral-moderation-latest", inputs=[{"role": "user", "content": "please flag-pii"}]
    )
    assert len(res.results) == 1
    assert res.results[0].categories["pii"] is True


def test_moderate_bad_key(bad_client):
    expect_status(lambda: bad_client.classifiers.moderate(model="m", inputs="x"), 401)


def test_chat_guardrails(client):
    err = expect_status(
        lambda: client.chat.complete(model=MODEL, messages=[{"role": "user", "content": "conf-unsafe py"}], guardrails=GUARD),
        403,
    )
    assert "violence_and_threats" in str(err.body)
    ok = client.chat.complete(model=MODEL, messages=[{"role": "user", "content": "conf-guard fine"}], guardrails=GUARD)
    assert ok.choices[0].finish_reason == "stop"


def test_agent_guardrails(client):
    agent = create_agent(client, guardrails=GUARD)
    try:
        expect_status(lambda: client.beta.conversations.start(agent_id=agent.id, inputs="conf-unsafe agent"), 403)
        res = client.beta.conversations.start(agent_id=agent.id, inputs="conf-guard hello")
        assert res.guardrails and len(res.guardrails) == 1
        assert res.guardrails[0]["blocked"] is False
        expect_status(
            lambda: client.beta.conversations.append(conversation_id=res.conversation_id, inputs="conf-unsafe later"), 403
        )
        expect_status(
            lambda: client.agents.complete(agent_id=agent.id, messages=[{"role": "user", "content": "conf-unsafe"}]), 403
        )
    finally:
        client.beta.agents.delete(agent_id=agent.id)
