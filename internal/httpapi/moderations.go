package httpapi

import (
	"context"
	"net/http"

	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/moderation"
	"github.com/tramontane/tramontane/internal/ratelimit"
)

// moderations serves POST /v1/moderations.
func (s *Server) moderations(w http.ResponseWriter, r *http.Request) {
	s.moderate(w, r, s.Moderation.Moderate)
}

// chatModerations serves POST /v1/chat/moderations.
func (s *Server) chatModerations(w http.ResponseWriter, r *http.Request) {
	s.moderate(w, r, s.Moderation.ModerateChat)
}

func (s *Server) moderate(w http.ResponseWriter, r *http.Request, run func(context.Context, *moderation.Request) (*moderation.Response, model.Usage, error)) {
	var req moderation.Request
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	res, usage, err := run(r.Context(), &req)
	if usage.TotalTokens > 0 {
		ratelimit.ChargeFromContext(r.Context(), usage.TotalTokens)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
