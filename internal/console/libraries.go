package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/library"
)

func (c *Console) librariesPage(w http.ResponseWriter, r *http.Request) {
	if c.Libraries == nil {
		c.render(w, r, http.StatusServiceUnavailable, "error", page{Title: "Libraries", Nav: "libraries", Error: "Libraries are not enabled on this server."})
		return
	}
	var libs struct {
		Data list `json:"data"`
	}
	if err := c.call(r, "GET", "/v1/libraries?page_size=100", nil, &libs); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "libraries", page{Title: "Libraries", Nav: "libraries", Data: obj{"Libraries": libs.Data}})
}

// libraryData loads a library, its documents and its shares.
func (c *Console) libraryData(r *http.Request) (obj, error) {
	id := url.PathEscape(r.PathValue("library_id"))
	var lib obj
	var docs struct {
		Data list `json:"data"`
	}
	var shares any
	if err := c.call(r, "GET", "/v1/libraries/"+id, nil, &lib); err != nil {
		return nil, err
	}
	if err := c.call(r, "GET", "/v1/libraries/"+id+"/documents?page_size=100", nil, &docs); err != nil {
		return nil, err
	}
	if err := c.call(r, "GET", "/v1/libraries/"+id+"/share", nil, &shares); err != nil {
		shares = nil // only the owner sees the shares
	}
	if m, ok := shares.(obj); ok {
		shares = m["data"]
	}
	return obj{"Library": lib, "Documents": docs.Data, "Shares": shares}, nil
}

func (c *Console) libraryPage(w http.ResponseWriter, r *http.Request) {
	if c.Libraries == nil {
		c.librariesPage(w, r)
		return
	}
	d, err := c.libraryData(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "library", page{Title: str(d["Library"].(obj)["name"]), Nav: "libraries", Data: d})
}

// librarySearch shows what the document_library tool would retrieve for a
// query: the same library.Search call, as the signed-in workspace.
func (c *Console) librarySearch(w http.ResponseWriter, r *http.Request) {
	if c.Libraries == nil {
		c.librariesPage(w, r)
		return
	}
	d, err := c.libraryData(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := strings.TrimSpace(r.PostFormValue("q"))
	d["Query"] = q
	p := page{Title: str(d["Library"].(obj)["name"]), Nav: "libraries", Data: d}
	if q != "" {
		res, err := c.Libraries.Search(r.Context(), library.SearchRequest{
			Workspace: auth.From(r.Context()).WorkspaceID, LibraryIDs: []string{r.PathValue("library_id")}, Query: q, K: 8,
		})
		if err != nil {
			p.Error = errorMessage(err)
		} else {
			d["Hits"], d["Mode"] = res.Hits, res.Mode
		}
	}
	c.render(w, r, http.StatusOK, "library", p)
}
