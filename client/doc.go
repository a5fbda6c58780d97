// Package client is a Go client for the Mistral Agents API, as served by
// Tramontane and by Mistral's hosted API (the wire is the same).
//
// It covers agents (versions, aliases, pages), conversations (start,
// append, restart, history, messages), streaming runs as
// iter.Seq2[Event, error], files, libraries and documents, models, embeddings,
// chat, agent and FIM completions, and moderations.
// Conversation entries and stream events are sum types: an interface with
// one concrete type per kind, and a raw fallback for kinds this package
// does not know, so a newer server never breaks an older client.
//
// Every error status is an *APIError (status, type, code, message,
// Retry-After). Requests that fail with 429 or 5xx before any byte of the
// response was read are retried with backoff (see RetryPolicy).
//
// A Runner runs Go functions for the model: it derives each function's
// JSON schema from its argument struct, and loops start → function.call →
// call the function → append function.result until the model answers.
//
//	c := client.New(client.WithBaseURL("http://127.0.0.1:8080"), client.WithAPIKey(key))
//	resp, err := c.Conversations.Start(ctx, client.ConversationRequest{
//		AgentID: agentID,
//		Inputs:  client.UserMessage("Who won Euro 2024?"),
//	})
//	if err != nil { ... }
//	fmt.Println(resp.Text())
//
// Without options, New reads the base URL from TRAMONTANE_URL and the key
// from TRAMONTANE_API_KEY or MISTRAL_API_KEY.
package client
