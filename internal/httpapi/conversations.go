package httpapi

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/ratelimit"
	"github.com/tramontane/tramontane/internal/store"
)

// wantsStream reports whether the client asked for SSE: the body's
// "stream" flag, or an Accept header naming only text/event-stream.
func wantsStream(r *http.Request, stream bool) bool {
	if stream {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Accept"))
	return mt == "text/event-stream"
}

func (s *Server) startConversation(w http.ResponseWriter, r *http.Request) {
	var req conversation.StartRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.Engine.PrepareStart(r.Context(), ws(r), &req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.execute(w, r, p, wantsStream(r, req.Stream))
}

func (s *Server) appendConversation(w http.ResponseWriter, r *http.Request) {
	var req conversation.AppendRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	Annotate(r.Context(), slog.String("conversation_id", r.PathValue("conversation_id")))
	p, err := s.Engine.PrepareAppend(r.Context(), ws(r), r.PathValue("conversation_id"), &req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.execute(w, r, p, wantsStream(r, req.Stream))
}

func (s *Server) restartConversation(w http.ResponseWriter, r *http.Request) {
	var req conversation.RestartRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	Annotate(r.Context(), slog.String("source_conversation_id", r.PathValue("conversation_id")))
	p, err := s.Engine.PrepareRestart(r.Context(), ws(r), r.PathValue("conversation_id"), &req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.execute(w, r, p, wantsStream(r, req.Stream))
}

// execute runs a prepared run as a stream or as one JSON response.
func (s *Server) execute(w http.ResponseWriter, r *http.Request, p *engine.Prepared, stream bool) {
	Annotate(r.Context(), slog.String("conversation_id", p.ConversationID), slog.String("model", p.Model))
	if p.AgentID != "" {
		Annotate(r.Context(), slog.String("agent_id", p.AgentID))
	}
	var col engine.Collector
	var runErr error
	defer func() {
		u := col.Usage
		outcome := "ok"
		if runErr != nil {
			outcome = apierr.KindOf(runErr).String()
		}
		s.Metrics.Run(outcome)
		attrs := []slog.Attr{slog.Int("prompt_tokens", u.PromptTokens), slog.Int("completion_tokens", u.CompletionTokens), slog.Int("total_tokens", u.TotalTokens)}
		if len(u.Connectors) > 0 {
			attrs = append(attrs, slog.Any("tool_calls", u.Connectors))
		}
		Annotate(r.Context(), attrs...)
		if u.TotalTokens > 0 {
			ratelimit.ChargeFromContext(r.Context(), u.TotalTokens)
		}
		if s.Usage != nil && (runErr == nil || u.TotalTokens > 0) {
			s.Usage.RecordUsage(r.Context(), ws(r), p.Model, u)
		}
	}()
	if stream {
		sink := newSSESink(w, s.StreamPing)
		defer sink.stopPinger()
		sink.onEvent = func(ev engine.Event) { _ = col.Emit(ev) }
		err := p.Execute(r.Context(), sink)
		runErr = err
		if !sink.finish(err) {
			writeError(w, r, err)
		} else if err != nil {
			if li := logInfoFrom(r.Context()); li != nil {
				li.setError(apierr.As(err))
			}
		}
		return
	}
	if err := p.Execute(r.Context(), &col); err != nil {
		runErr = err
		writeError(w, r, err)
		return
	}
	resp := col.Response()
	if len(p.Guardrails) > 0 {
		resp.Guardrails = p.Guardrails
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	page, err := queryInt(r, "page", 0, 0, 1<<30)
	if err != nil {
		writeError(w, r, err)
		return
	}
	size, err := queryInt(r, "page_size", 100, 1, 1000)
	if err != nil {
		writeError(w, r, err)
		return
	}
	meta, err := queryMetadata(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.Store.ListConversations(r.Context(), ws(r), meta, store.Page{Offset: page * size, Limit: size})
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]conversation.Conversation, 0, len(list))
	for i := range list {
		c, err := conversation.FromStore(&list[i])
		if err != nil {
			writeError(w, r, err)
			return
		}
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) conversationByPath(r *http.Request) (*store.Conversation, error) {
	id := r.PathValue("conversation_id")
	Annotate(r.Context(), slog.String("conversation_id", id))
	c, err := s.Store.GetConversation(r.Context(), ws(r), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFoundf("conversation %s not found", id)
	}
	return c, err
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request) {
	c, err := s.conversationByPath(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := conversation.FromStore(c)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteConversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("conversation_id")
	Annotate(r.Context(), slog.String("conversation_id", id))
	if err := s.Store.DeleteConversation(r.Context(), ws(r), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = apierr.NotFoundf("conversation %s not found", id)
		}
		writeError(w, r, err)
		return
	}
	noContent(w)
}

func (s *Server) entries(r *http.Request) (string, []conversation.Entry, error) {
	id := r.PathValue("conversation_id")
	Annotate(r.Context(), slog.String("conversation_id", id))
	rows, err := s.Store.ListEntries(r.Context(), ws(r), id, -1)
	if errors.Is(err, store.ErrNotFound) {
		return id, nil, apierr.NotFoundf("conversation %s not found", id)
	}
	if err != nil {
		return id, nil, err
	}
	list, err := conversation.EntriesFromStore(rows)
	return id, list, err
}

func (s *Server) conversationHistory(w http.ResponseWriter, r *http.Request) {
	id, list, err := s.entries(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, conversation.History{Object: "conversation.history", ConversationID: id, Entries: list})
}

func (s *Server) conversationMessages(w http.ResponseWriter, r *http.Request) {
	id, list, err := s.entries(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	msgs := make([]conversation.Entry, 0, len(list))
	for _, e := range list {
		if e.Type == conversation.MessageInput || e.Type == conversation.MessageOutput {
			msgs = append(msgs, e)
		}
	}
	writeJSON(w, http.StatusOK, conversation.Messages{Object: "conversation.messages", ConversationID: id, Messages: msgs})
}
