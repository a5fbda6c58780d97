"""The Python SDK's client-side run helpers: client.beta.conversations.run_async /
run_stream_async with a RunContext and locally registered functions (shared/API.md §7.7).

In mistralai 2.10.1 the helpers live in mistralai.extra.run.context.RunContext; functions are
registered with `run_ctx.register_func(func)` (usable as a decorator) and the helpers need the
SDK's "agents" extra (mcp, griffe), which requirements.txt installs (mistralai[agents]).
Script rules (conformance/upstream-script.yaml): "conf-run-fn X" calls conf_run_lookup{city:X};
its result is answered "conf-run final: <result>".
"""

import asyncio
import json

import pytest

from conv_helpers import MODEL, history, text_of, types
from helpers import create_agent, make_client, uniq

from mistralai.extra.exceptions import DeferralReason, DeferredToolCallsException
from mistralai.extra.run.context import RunContext


def run(coro):
    return asyncio.run(coro)


def test_run_async_model_mode_with_registered_function():
    client = make_client()
    calls = []

    async def main():
        async with RunContext(model=MODEL) as run_ctx:

            @run_ctx.register_func
            def conf_run_lookup(city: str) -> str:
                """Look up the weather of a city.

                Args:
                    city: The city to look up.
                """
                calls.append(city)
                return f"{city}: sunny, 24C"

            result = await client.beta.conversations.run_async(
                run_ctx=run_ctx,
                inputs="conf-run-fn Lyon",
                instructions="conf-run: use the lookup tool.",
            )
            return run_ctx, result

    run_ctx, result = run(main())
    assert calls == ["Lyon"], "the registered function ran locally with the model's arguments"
    assert result.conversation_id and result.conversation_id == run_ctx.conversation_id
    assert types(result.output_entries) == ["function.call", "function.result", "message.output"]
    assert result.output_entries[0].name == "conf_run_lookup"
    assert json.loads(result.output_entries[0].arguments) == {"city": "Lyon"}
    assert result.output_as_text == "conf-run final: Lyon: sunny, 24C"
    assert run_ctx.request_count == 2  # start + one append

    # The server stored the whole loop, and the model conversation carries the function tool.
    h = history(client, result.conversation_id)
    assert types(h) == ["message.input", "function.call", "function.result", "message.output"]
    conv = client.beta.conversations.get(conversation_id=result.conversation_id)
    assert conv.model == MODEL
    assert conv.instructions == "conf-run: use the lookup tool."
    assert [t.function.name for t in conv.tools if t.type == "function"] == ["conf_run_lookup"]


def test_run_async_agent_mode_updates_the_agent():
    client = make_client()
    agent = create_agent(client, instructions="conf-run agent", tools=[{"type": "web_search"}])

    async def main():
        async with RunContext(agent_id=agent.id) as run_ctx:

            @run_ctx.register_func
            def conf_run_lookup(city: str) -> str:
                """Look up the weather of a city.

                Args:
                    city: The city to look up.
                """
                return f"{city}: rainy"

            return await client.beta.conversations.run_async(run_ctx=run_ctx, inputs="conf-run-fn Brest")

    result = run(main())
    assert result.output_as_text == "conf-run final: Brest: rainy"
    # The helper PATCHed the agent: a new version with web_search kept and the function added.
    a = client.beta.agents.get(agent_id=agent.id)
    assert a.version == 1
    assert [t.type for t in a.tools] == ["web_search", "function"]
    assert a.tools[1].function.name == "conf_run_lookup"
    conv = client.beta.conversations.get(conversation_id=result.conversation_id)
    assert conv.agent_id == agent.id


def test_run_stream_async_model_mode():
    client = make_client()

    async def main():
        events, final = [], None
        async with RunContext(model=MODEL) as run_ctx:

            @run_ctx.register_func
            def conf_run_lookup(city: str) -> str:
                """Look up the weather of a city.

                Args:
                    city: The city to look up.
                """
                return f"{city}: windy"

            gen = await client.beta.conversations.run_stream_async(run_ctx=run_ctx, inputs="conf-run-fn Nantes")
            async for item in gen:
                if type(item).__name__ == "RunResult":
                    final = item
                else:
                    events.append(item)
        return events, final

    events, final = run(main())
    assert final is not None, "the generator ends with the RunResult"
    kinds = [e.data.type for e in events]
    assert kinds[0] == "conversation.response.started"
    assert "function.call.delta" in kinds
    assert "function.result" in kinds, "the helper reports the local function result"
    assert kinds.count("conversation.response.started") == 2, kinds  # start_stream + append_stream
    assert kinds[-1] == "conversation.response.done"
    assert types(final.output_entries) == ["function.call", "function.result", "message.output"]
    assert final.output_as_text == "conf-run final: Nantes: windy"
    h = history(client, final.conversation_id)
    assert types(h) == ["message.input", "function.call", "function.result", "message.output"]
    # The rebuilt entries carry the stored ids (output ids are stable across stream and history).
    assert final.output_entries[0].id == h[1].id
    assert final.output_entries[2].id == h[3].id


def test_run_async_server_side_confirmation_deny_then_allow():
    """A built-in tool requiring confirmation: the helper raises DeferredToolCallsException
    (reason server_side_confirmation_required); rejecting sends tool_confirmations=deny."""
    client = make_client()
    agent = create_agent(
        client, tools=[{"type": "web_search", "tool_configuration": {"requires_confirmation": ["web_search"]}}]
    )

    async def main():
        out = {}
        async with RunContext(agent_id=agent.id) as run_ctx:
            with pytest.raises(DeferredToolCallsException) as exc:
                await client.beta.conversations.run_async(run_ctx=run_ctx, inputs="conf-confirm-ws via run_async")
            deferred = exc.value.deferred_calls
            out["deferred"] = deferred
            out["conv"] = exc.value.conversation_id
            out["denied"] = await client.beta.conversations.run_async(
                run_ctx=run_ctx, inputs=[deferred[0].reject("not now")]
            )
        async with RunContext(agent_id=agent.id) as run_ctx2:
            with pytest.raises(DeferredToolCallsException) as exc2:
                await client.beta.conversations.run_async(run_ctx=run_ctx2, inputs="conf-confirm-ws allow via run_async")
            out["allowed"] = await client.beta.conversations.run_async(
                run_ctx=run_ctx2, inputs=[exc2.value.deferred_calls[0].confirm()]
            )
        return out

    out = run(main())
    d = out["deferred"]
    assert len(d) == 1 and d[0].tool_name == "web_search"
    assert d[0].reason == DeferralReason.SERVER_SIDE_CONFIRMATION_REQUIRED
    assert out["conv"]
    assert out["denied"].output_as_text == "conf-websearch: the search was denied, answering without it."
    allowed = out["allowed"]
    assert "tool.execution" in types(allowed.output_entries), types(allowed.output_entries)
    assert allowed.output_as_text.startswith("conf-websearch final:")


def test_run_async_client_side_confirmation():
    """register_func(requires_confirmation=True): the helper defers the call to the user, then
    runs it locally once confirmed (the server only sees function.call / function.result)."""
    client = make_client()
    ran = []

    async def main():
        async with RunContext(model=MODEL) as run_ctx:

            def conf_run_lookup(city: str) -> str:
                """Look up the weather of a city.

                Args:
                    city: The city to look up.
                """
                ran.append(city)
                return f"{city}: foggy"

            run_ctx.register_func(conf_run_lookup, requires_confirmation=True)
            with pytest.raises(DeferredToolCallsException) as exc:
                await client.beta.conversations.run_async(run_ctx=run_ctx, inputs="conf-run-fn Lille")
            assert ran == []
            call = exc.value.deferred_calls[0]
            assert call.reason == DeferralReason.CONFIRMATION_REQUIRED
            return await client.beta.conversations.run_async(run_ctx=run_ctx, inputs=[call.confirm()])

    result = run(main())
    assert ran == ["Lille"]
    assert result.output_as_text == "conf-run final: Lille: foggy"
