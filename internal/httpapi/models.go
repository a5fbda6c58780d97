package httpapi

import (
	"net/http"

	"github.com/tramontane/tramontane/internal/apierr"
)

type modelList struct {
	Object string      `json:"object"`
	Data   []ModelCard `json:"data"`
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	cards := []ModelCard{}
	if s.Models != nil {
		cards = s.Models.Cards(r.Context())
	}
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: cards})
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("model_id")
	if s.Models != nil {
		if c, ok := s.Models.Card(r.Context(), id); ok {
			writeJSON(w, http.StatusOK, c)
			return
		}
	}
	writeError(w, r, apierr.NotFoundf("model %q is not routed by this server: add it to the models section of the config file, or set TRAMONTANE_UPSTREAM_URL or MISTRAL_API_KEY", id))
}
