"""Records the request bodies the official Python SDK (mistralai) sends for
the calls that client/golden_test.go makes with the Go client, and writes
them to python_sdk_requests.json beside this file.

Run once, from the repository root, with the conformance venv:

    conformance/install.sh py
    conformance/py/.venv/bin/python client/testdata/record_python_sdk.py

The SDK talks to a recording server on loopback that answers every request
with an empty 500; the SDK's errors are ignored, only its requests matter.
"""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from mistralai.client import Mistral

RECORDED = []
CURRENT = {"name": ""}


def multipart_fields(raw, ctype):
    """The parts of a multipart body: name -> value, or for a file part
    {"filename", "content_type", "content"}."""
    from email.parser import BytesParser
    from email.policy import HTTP
    msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
    out = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True).decode()
        filename = part.get_filename()
        if filename is not None:
            out[name] = {"filename": filename, "content_type": part.get_content_type(), "content": data}
        else:
            out[name] = data
    return out


class Recorder(BaseHTTPRequestHandler):
    def _record(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        u = urlsplit(self.path)
        body = None
        ctype = self.headers.get("Content-Type", "")
        if raw and ctype.startswith("application/json"):
            body = json.loads(raw)
        elif raw and ctype.startswith("multipart/form-data"):
            body = multipart_fields(raw, ctype)
        RECORDED.append({
            "name": CURRENT["name"],
            "method": self.command,
            "path": u.path,
            "query": {k: v for k, v in parse_qs(u.query).items() if k != "metadata" or "sentinel" not in v[0]},
            "body": body,
            "accept": self.headers.get("Accept", ""),
            "content_type": self.headers.get("Content-Type", "").split(";")[0],
        })
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _record

    def log_message(self, *args):
        pass


def call(name, fn):
    CURRENT["name"] = name
    try:
        r = fn()
        if hasattr(r, "__iter__"):
            for _ in r:
                pass
    except Exception:
        pass


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    m = Mistral(api_key="golden-key", server_url="http://127.0.0.1:%d" % srv.server_address[1])
    b = m.beta

    weather = {"type": "function", "function": {"name": "get_weather", "description": "Current weather.",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
    call("agents.create", lambda: b.agents.create(
        model="mistral-medium-latest", name="faq-agent", instructions="Be concise.",
        tools=[{"type": "web_search"}, weather], completion_args={"temperature": 0.2},
        metadata={"team": "support"}))
    call("agents.update", lambda: b.agents.update(agent_id="ag_1", instructions="Be brief.", version_message="v1"))
    call("agents.update_version", lambda: b.agents.update_version(agent_id="ag_1", version=0))
    call("agents.create_version_alias", lambda: b.agents.create_version_alias(agent_id="ag_1", alias="prod", version=1))
    call("conversations.start", lambda: b.conversations.start(agent_id="ag_1", inputs="Who won Euro 2024?"))
    call("conversations.start_stream.model", lambda: b.conversations.start_stream(
        model="mistral-medium-latest", instructions="Be concise.", tools=[weather],
        inputs=[{"role": "user", "content": "hello", "type": "message.input"}], metadata={"k": "v"}))
    call("conversations.start.version", lambda: b.conversations.start(agent_id="ag_1", agent_version=2, inputs="hi", store=False))
    call("conversations.append", lambda: b.conversations.append(conversation_id="conv_1", inputs="again"))
    call("conversations.append.results", lambda: b.conversations.append(conversation_id="conv_1", inputs=[
        {"tool_call_id": "call_a", "result": "sunny", "type": "function.result"}]))
    call("conversations.append.confirmations", lambda: b.conversations.append(
        conversation_id="conv_1", tool_confirmations=[{"tool_call_id": "call_a", "confirmation": "allow"}]))
    call("conversations.append_stream", lambda: b.conversations.append_stream(conversation_id="conv_1", inputs="more"))
    call("conversations.restart", lambda: b.conversations.restart(conversation_id="conv_1", from_entry_id="msg_1", inputs="branch"))
    call("libraries.create", lambda: b.libraries.create(name="handbook", description="HR"))
    call("agents.list", lambda: b.agents.list(name="faq-agent", metadata={"team": "support"}))
    call("agents.get", lambda: b.agents.get(agent_id="ag_1", agent_version="prod"))
    call("agents.list_versions", lambda: b.agents.list_versions(agent_id="ag_1", page=1, page_size=10))
    call("conversations.list", lambda: b.conversations.list())
    call("files.get_signed_url", lambda: m.files.get_signed_url(file_id="f_1"))
    call("libraries.update", lambda: b.libraries.update(library_id="lib_1", name="handbook-2"))
    call("documents.update", lambda: b.libraries.documents.update(library_id="lib_1", document_id="doc_1", name="leave.md"))
    call("accesses.update_or_create", lambda: b.libraries.accesses.update_or_create(
        library_id="lib_1", level="Viewer", share_with_uuid="ws_2", share_with_type="Workspace"))
    call("accesses.delete", lambda: b.libraries.accesses.delete(
        library_id="lib_1", share_with_uuid="ws_2", share_with_type="Workspace"))
    chat_messages = [
        {"role": "system", "content": "Be concise."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_w", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_w", "name": "get_weather", "content": "12C"},
    ]
    call("chat.complete", lambda: m.chat.complete(model="mistral-medium-latest", messages=chat_messages,
                                                  tools=[weather], temperature=0.2, max_tokens=64))
    call("chat.stream", lambda: m.chat.stream(model="mistral-medium-latest", messages=[{"role": "user", "content": "hi"}]))
    call("agents.complete", lambda: m.agents.complete(agent_id="ag_1", messages=[{"role": "user", "content": "hi"}]))
    call("files.upload", lambda: m.files.upload(file={"file_name": "notes.txt", "content": b"hello files"}, purpose="ocr"))
    call("documents.upload", lambda: b.libraries.documents.upload(
        library_id="lib_1", file={"file_name": "leave.md", "content": b"# Leave"}))
    call("fim.complete", lambda: m.fim.complete(model="codestral-latest", prompt="def add(a, b):\n", suffix="\nprint(add(1, 2))", max_tokens=32))
    call("classifiers.moderate", lambda: m.classifiers.moderate(model="mistral-moderation-latest", inputs=["a quiet morning", "hello"]))
    call("embeddings.create", lambda: m.embeddings.create(model="mistral-embed", inputs=["cold wind", "warm sea"], output_dimension=8))

    cn = b.connectors
    call("connectors.create", lambda: cn.create(request={
        "protocol": "mcp", "name": "wiki", "title": "The wiki", "description": "Our wiki.",
        "server": "https://mcp.example.com/mcp", "headers": {"X-Key": "k"}, "visibility": "shared_workspace"}))
    call("connectors.get", lambda: cn.get(connector_id_or_name="wiki"))
    call("connectors.list", lambda: cn.list(page_size=2, cursor="cur_1"))
    call("connectors.update", lambda: cn.update(connector_id="wiki", request_body={"protocol": "mcp", "description": "updated"}))
    call("connectors.delete", lambda: cn.delete(connector_id="wiki"))
    call("connectors.list_tools", lambda: cn.list_tools(connector_id_or_name="wiki", refresh=True, credentials_name="main"))
    call("connectors.call_tool", lambda: cn.call_tool(connector_id_or_name="wiki", tool_name="echo", arguments={"message": "hi"}))
    call("connectors.create_credentials", lambda: cn.create_credentials(
        connector_id_or_name="wiki", consumer_scope="workspace", name="main",
        credentials={"bearer_token": "tok", "headers": {"X-Team": "a"}}))
    call("connectors.update_credentials", lambda: cn.update_credentials(
        connector_id_or_name="wiki", consumer_scope="workspace", name="main", credentials={"bearer_token": "tok-2"}))
    call("connectors.list_workspace_credentials", lambda: cn.list_workspace_credentials(connector_id_or_name="wiki"))
    call("connectors.delete_credentials", lambda: cn.delete_credentials(
        connector_id_or_name="wiki", consumer_scope="workspace", credentials_name="main"))

    srv.shutdown()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python_sdk_requests.json")
    with open(out, "w") as f:
        json.dump(RECORDED, f, indent=1, sort_keys=True)
        f.write("\n")
    print("recorded %d requests into %s" % (len(RECORDED), out))


if __name__ == "__main__":
    main()
