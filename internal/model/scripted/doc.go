// Package scripted is a deterministic, offline model driven by a script
// file. It exists for users' CI and for this repository's tests; it is
// labelled "scripted" everywhere and is never a silent default. The same
// engine backs the fake OpenAI-compatible server (cmd/fakeupstream).
//
// # Script format
//
// A script is YAML (or JSON, which YAML accepts) with a list of rules and
// an optional default. For each request the first rule whose conditions
// all hold answers; if none does, the default answers; without a default,
// a fixed text says that no rule matched.
//
//	rules:
//	  - name: weather              # optional label (shown in errors)
//	    match: "weather"           # condition on the latest input (see below)
//	    offered: [get_weather]     # these tools must all be offered
//	    tool_calls:                # answer with one or more (parallel) calls
//	      - name: get_weather
//	        arguments: {city: "{{1}}"}
//	  - on: tool                   # latest input is a tool result...
//	    tool: get_weather          # ...of this tool
//	    reply: "It is {{tool_result}} in town."
//	  - match: "re:^refund (\\d+)$"
//	    system: "triage"           # condition on the system prompt
//	    handoff: "Billing Agent"   # call transfer_to_billing_agent
//	  - match: "flaky"
//	    times: 1                   # applies to the first matching request only
//	    error: {status: 500, message: "try again"}
//	default:
//	  reply: "You said: {{input}}"
//
// The latest input is the last user or tool message of the request (an
// assistant prefix message after it is skipped). For a tool message, the
// tool's name is its name field or, failing that, the name of the call
// it answers.
//
// Conditions (all optional; all given ones must hold):
//
//   - match: a pattern or a list of patterns (any may match) tested
//     against the latest input's text.
//   - on: "user" or "tool", the role of the latest input.
//   - tool: pattern(s) the latest tool result's tool name must match
//     (implies on: tool).
//   - system: pattern(s) the system prompt (all system messages, i.e. the
//     agent's instructions) must match; this tells agents of a handoff
//     chain apart.
//   - offered: tool names (or patterns) that must all be offered.
//   - model: pattern(s) the requested model name must match.
//   - times: the rule applies at most this many times per engine (per
//     provider or per fake server); 0 means always.
//
// A pattern is a case-insensitive substring, or, with the prefix "re:", a
// regular expression (case-insensitive; its capture groups become {{1}},
// {{2}}, ...). An empty pattern matches anything.
//
// Actions (a rule may combine reply, tool_calls and handoff):
//
//   - reply: the assistant text.
//   - tool_calls: a list of {name, arguments, id}. arguments is an object
//     (encoded as JSON) or a JSON string; id defaults to a deterministic
//     9-character id. Calls to tools that are not offered are still made.
//   - handoff: an agent name; the model calls the function
//     model.HandoffToolName(name) ("transfer_to_<slug>") with "{}". If
//     that tool is not offered, the reply explains so instead.
//   - error: {status, message, retry_after} fails the call with that HTTP
//     status (retry_after in seconds).
//   - delay_ms: wait this long before answering.
//   - finish_reason: override the finish reason ("stop", "tool_calls" or
//     "length" by default as appropriate).
//   - fail_after_chunks: stream this many chunks, then break the stream.
//
// Templates in reply and in argument strings: {{input}} (latest input),
// {{last_user}} (last user message), {{tool_result}} (latest tool result),
// {{tool_results}} (the trailing tool results, one per line), {{tool_name}},
// {{model}}, {{system}}, {{tools}} (offered tool names, comma-separated),
// and {{1}}..{{9}} (regex captures of the match). Unknown names are left
// as they are.
//
// Streaming splits the text into one chunk per word and each call's
// arguments into short fragments. Usage counts whitespace-separated words
// (model.CountTokens): prompt tokens over the request's messages,
// completion tokens over the reply and the calls.
package scripted
