package httpapi

import (
	"net/http"

	"github.com/tramontane/tramontane/internal/apierr"
)

type modelList struct {
	Object string      `json:"object"`
	Data   []ModelCard `json:"data"`
}

func (s *Server) cards() []ModelCard {
	if s.Models == nil {
		return []ModelCard{}
	}
	return s.Models.Cards()
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: s.cards()})
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("model_id")
	for _, c := range s.cards() {
		if c.ID == id {
			writeJSON(w, http.StatusOK, c)
			return
		}
		for _, a := range c.Aliases {
			if a == id {
				writeJSON(w, http.StatusOK, c)
				return
			}
		}
	}
	writeError(w, r, apierr.NotFoundf("model %q is not routed by this server", id))
}
