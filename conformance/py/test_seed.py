"""The product description's (shared/seed) Python examples, run as written against the server
with only `server_url` added, plus the minimal fixes shared/API.md §10(d) lists. Each test
quotes its seed section and names the fix it needed. The model is the fake upstream
(conformance/upstream-script.yaml), which recognises the seed's own input texts.
"""

import json

from conv_helpers import text_of
from helpers import KEY, URL, library_id_for_tests

# Seed §12: `from mistralai import Mistral, FunctionResultEntry`
# Minimal fix (API.md §10(d)): in SDK 2.x the client lives under mistralai.client (try both).
try:
    from mistralai.client import Mistral
    from mistralai.client.models import FunctionResultEntry
except ImportError:  # pragma: no cover - SDK 1.x
    from mistralai import FunctionResultEntry, Mistral  # type: ignore

# Seed §12: `client = Mistral(os.environ["MISTRAL_API_KEY"])` - the only change: server_url.
client = Mistral(KEY, server_url=URL)


def get_stock_price(ticker: str) -> dict:
    # Seed §6: `def get_stock_price(ticker:str)->dict: ...` (the body is the user's own).
    return {"ticker": ticker, "price": 251.2 if ticker == "TSLA" else 189.5, "currency": "USD"}


# Seed §6
schema = {
    "name": "get_stock_price",
    "description": "Fetch price.",
    "parameters": {
        "type": "object",
        "properties": {"ticker": {"type": "string"}},
        "required": ["ticker"],
    },
}


def test_seed_4_agent_and_conversation():
    # Seed §4.1 (as written; "<lib_id>" is the seed's placeholder for a real library id):
    #   agent = client.beta.agents.create(model="mistral-medium-latest", name="faq-agent",
    #       description="Answers product FAQs using web + docs",
    #       tools=[{"type": "web_search"}, {"type":"document_library","library_ids":["<lib_id>"]}],
    #       instructions="Be concise and cite sources.")
    lib_id = library_id_for_tests(client)
    agent = client.beta.agents.create(
        model="mistral-medium-latest",
        name="faq-agent",
        description="Answers product FAQs using web + docs",
        tools=[{"type": "web_search"}, {"type": "document_library", "library_ids": [lib_id]}],
        instructions="Be concise and cite sources.",
    )
    # "Versioning – each update bumps version and keeps history."
    assert agent.version == 0
    assert [t.type for t in agent.tools] == ["web_search", "document_library"]

    # Seed §4.2 (as written):
    #   conv = client.beta.conversations.start(agent_id=agent.id, inputs="Who won Euro 2024?")
    #   # conv.outputs contains tool execution then assistant answer
    conv = client.beta.conversations.start(
        agent_id=agent.id,
        inputs="Who won Euro 2024?",
    )
    assert [o.type for o in conv.outputs] == ["tool.execution", "message.output"]
    assert conv.outputs[0].name == "web_search"
    assert conv.outputs[1].agent_id == agent.id

    # "append(), restart(), and *Stream() variants manage dialogue continuations."
    more = client.beta.conversations.append(conversation_id=conv.conversation_id, inputs="conf-seed4 thanks")
    assert more.conversation_id == conv.conversation_id
    again = client.beta.conversations.restart(
        conversation_id=conv.conversation_id, from_entry_id=conv.outputs[-1].id, inputs="conf-seed4 restart"
    )
    assert again.conversation_id != conv.conversation_id


def test_seed_5_4_image_agent():
    # Seed §5.4:
    #   img_agent = client.beta.agents.create(model="mistral-large-latest",
    #                                         tools=[{"type":"image_generation"}])
    # Minimal fix (API.md §10(d)): agents need `name`.
    img_agent = client.beta.agents.create(
        model="mistral-large-latest",
        name="img-bot",
        tools=[{"type": "image_generation"}],
    )
    assert img_agent.tools[0].type == "image_generation"


def test_seed_6_function_calling():
    # Seed §6:
    #   agent = client.beta.agents.create(model="mistral-large-latest",
    #                                     tools=[{"type":"function","function":schema}])
    # Minimal fix (API.md §10(d)): agents need `name`.
    agent = client.beta.agents.create(
        model="mistral-large-latest",
        name="stock-bot",
        tools=[{"type": "function", "function": schema}],
    )

    # Runtime loop (Python), as written:
    final = None
    resp = client.beta.conversations.start(agent_id=agent.id,
                                           inputs="Price of AAPL?")
    call = resp.outputs[-1]
    if call.type == "function.call":
        result = get_stock_price(**json.loads(call.arguments))
        entry = FunctionResultEntry(tool_call_id=call.tool_call_id,
                                    result=json.dumps(result))
        final = client.beta.conversations.append(
            conversation_id=resp.conversation_id,
            inputs=[entry]
        )

    assert call.type == "function.call" and call.name == "get_stock_price"
    assert final is not None
    assert final.outputs[-1].type == "message.output"
    assert final.outputs[-1].content == (
        'The stock price lookup returned {"ticker": "AAPL", "price": 189.5, "currency": "USD"}'
    )


def test_seed_7_handoffs():
    # Seed §7 (the agents are not shown in the seed; created here with distinct instructions):
    #   client.beta.agents.update(agent_id=finance.id, handoffs=[web.id, ecb.id])
    #   resp = client.beta.conversations.start(agent_id=finance.id,
    #           inputs="Plot ECB rate evolution 2010-2024")
    #   # Server automatically passes conversation to ecb agent, then to graph agent
    graph = client.beta.agents.create(
        model="mistral-medium-latest", name="graph-agent",
        instructions="conf-seed7-graph: plot what you are given.", tools=[{"type": "code_interpreter"}],
    )
    ecb = client.beta.agents.create(
        model="mistral-medium-latest", name="ecb-interest-rate-agent",
        instructions="conf-seed7-ecb: you know ECB interest rates.", handoffs=[graph.id],
    )
    web = client.beta.agents.create(
        model="mistral-medium-latest", name="web-search-agent",
        instructions="conf-seed7-web: search the web.", tools=[{"type": "web_search"}],
    )
    finance = client.beta.agents.create(
        model="mistral-medium-latest", name="finance-agent",
        instructions="conf-seed7-finance: route finance questions.",
    )

    # As written:
    client.beta.agents.update(agent_id=finance.id,
                              handoffs=[web.id, ecb.id])

    resp = client.beta.conversations.start(agent_id=finance.id,
            inputs="Plot ECB rate evolution 2010-2024")

    assert [o.type for o in resp.outputs] == ["agent.handoff", "agent.handoff", "message.output"]
    h1, h2, answer = resp.outputs
    assert (h1.previous_agent_id, h1.next_agent_id) == (finance.id, ecb.id)
    assert (h1.previous_agent_name, h1.next_agent_name) == ("finance-agent", "ecb-interest-rate-agent")
    assert (h2.previous_agent_id, h2.next_agent_id) == (ecb.id, graph.id)
    assert answer.agent_id == graph.id
    assert answer.content == "Here is the ECB deposit rate evolution 2010-2024, plotted for you."


def test_seed_8_streaming(capsys):
    # Seed §5.1's webAgent, created from Python.
    webAgent = client.beta.agents.create(
        model="mistral-medium-latest", name="news-bot", tools=[{"type": "web_search"}]
    )
    # Seed §8:
    #   stream = client.beta.conversations.start_stream(agent_id=webAgent.id,
    #       inputs="Summarise today's AI news.")
    #   for chunk in stream:
    #       if chunk.type=="message.output.delta":
    #           print(chunk.content, end="", flush=True)
    # Minimal fix (API.md §10(d)): the event type is `chunk.data.type` (and the token
    # `chunk.data.content`) in SDK 2.x, not `chunk.type` / `chunk.content`.
    stream = client.beta.conversations.start_stream(
        agent_id=webAgent.id,
        inputs="Summarise today's AI news."
    )
    for chunk in stream:
        if chunk.data.type == "message.output.delta":
            print(chunk.data.content, end="", flush=True)

    printed = capsys.readouterr().out
    assert printed.startswith("conf-websearch final: answered after the search."), printed
    # What was printed is exactly the stored answer.
    convs = client.beta.conversations.list(page_size=100)
    mine = next(c for c in convs if getattr(c, "agent_id", None) == webAgent.id)
    h = client.beta.conversations.get_history(conversation_id=mine.id)
    assert [e.type for e in h.entries] == ["message.input", "tool.execution", "message.output"]
    # The stored content is the printed text: a string, or a chunk list when the search gave
    # citable sources (API.md §4: string | OutputChunk[]).
    assert text_of(h.entries[-1].content) == printed


def test_seed_12_end_to_end(capsys):
    # Seed §12, as written (imports and client: see the top of this file):
    # 1. Agent with web + custom function
    agent = client.beta.agents.create(
        model="mistral-medium-latest",
        name="fin-bot",
        tools=[{"type": "web_search"},
               {"type": "function", "function": schema}]
    )

    # 2. Ask a question
    resp = client.beta.conversations.start(agent_id=agent.id,
                                           inputs="Current TSLA price and last news?")
    call = resp.outputs[-1]

    # 3. Handle function call then append result
    if call.type == "function.call":
        price = get_stock_price(**json.loads(call.arguments))
        entry = FunctionResultEntry(tool_call_id=call.tool_call_id,
                                    result=json.dumps(price))
        final = client.beta.conversations.append(
            conversation_id=resp.conversation_id,
            inputs=[entry]
        )
    print(final.outputs[-1].content)

    out = capsys.readouterr().out
    assert out == 'The stock price lookup returned {"ticker": "TSLA", "price": 251.2, "currency": "USD"}\n'
