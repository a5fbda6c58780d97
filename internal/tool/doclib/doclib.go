// Package doclib is the document_library connector: the model calls it
// with a query, and it searches the libraries named in the tool's
// library_ids (those the conversation's workspace owns or that are shared
// with it) with the library service's hybrid retrieval, returning numbered
// passages to cite as [n] and the matching references (document name and
// a signed link to the document, anchored at the page).
package doclib

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/library"
	"github.com/tramontane/tramontane/internal/model"
)

// ToolName is the built-in connector's name.
const ToolName = "document_library"

// Connector implements engine.Connector for document_library.
type Connector struct {
	lib *library.Service
	// BaseURL prefixes the signed document links of references (the
	// server's public URL).
	BaseURL string
	// K is how many passages a call returns (default 5).
	K int
	// MaxPassageChars caps each passage's text (default 2000).
	MaxPassageChars int
}

// New returns the connector over a library service.
func New(lib *library.Service, baseURL string) *Connector {
	return &Connector{lib: lib, BaseURL: strings.TrimRight(baseURL, "/"), K: 5, MaxPassageChars: 2000}
}

var _ engine.Connector = (*Connector)(nil)

// Definition implements engine.Connector.
func (c *Connector) Definition(agent.Tool) model.ToolDef {
	params, _ := json.Marshal(map[string]any{
		"type": "object",
		"properties": map[string]any{"query": map[string]string{"type": "string",
			"description": "What to look for in the documents: keywords or a question"}},
		"required": []string{"query"},
	})
	return model.ToolDef{Name: ToolName, Parameters: params,
		Description: "Search the user's document libraries. Returns numbered passages from the documents; cite them as [n]."}
}

// Execute implements engine.Connector.
func (c *Connector) Execute(ctx context.Context, call engine.ToolCall) (*engine.ToolResult, error) {
	query, err := engine.QueryArgument(call.Arguments)
	if err != nil {
		return nil, err
	}
	k := c.K
	if k <= 0 {
		k = 5
	}
	res, err := c.lib.Search(ctx, library.SearchRequest{Workspace: call.Workspace, LibraryIDs: call.Tool.LibraryIDs, Query: query, K: k})
	if err != nil {
		return nil, err
	}
	return c.result(query, res, call.RefOffset), nil
}

// result numbers the passages from offset+1 and builds references and
// info.
func (c *Connector) result(query string, res *library.SearchResult, offset int) *engine.ToolResult {
	var b strings.Builder
	if len(res.Hits) == 0 {
		fmt.Fprintf(&b, "The document libraries have no passage matching %q.", query)
	} else {
		fmt.Fprintf(&b, "Passages from the document libraries for %q. Answer from them and cite each fact with the number of its passage in square brackets, e.g. [1] or [2][3], right after the sentence it supports. Cite only the numbers listed below.\n", query)
	}
	refs := make([]engine.Reference, 0, len(res.Hits))
	results := make([]map[string]any, 0, len(res.Hits))
	for i, h := range res.Hits {
		where := h.DocumentName
		if h.Page > 0 {
			where += fmt.Sprintf(", page %d", h.Page)
		}
		if h.Heading != "" {
			where += " — " + h.Heading
		}
		fmt.Fprintf(&b, "\n[%d] %s\n%s\n", offset+i+1, where, truncate(h.Text, c.maxChars()))
		u := c.lib.SignedURL(c.BaseURL, h.DocumentID, library.LinkContent)
		if h.Page > 0 {
			u += fmt.Sprintf("#page=%d", h.Page)
		}
		desc := h.Heading
		if desc == "" {
			desc = truncate(strings.Join(strings.Fields(h.Text), " "), 200)
		}
		refs = append(refs, engine.Reference{Tool: ToolName, Title: h.DocumentName, URL: u, Description: desc})
		results = append(results, map[string]any{"chunk_id": h.ChunkID, "document_id": h.DocumentID, "score": h.Score})
	}
	if len(res.Missing) > 0 {
		fmt.Fprintf(&b, "\n(Libraries not found or not shared with this workspace, skipped: %s)\n", strings.Join(res.Missing, ", "))
	}
	forModel := b.String()
	info := map[string]any{"query": query, "results": results, "mode": res.Mode}
	if len(res.Missing) > 0 {
		info["missing_library_ids"] = res.Missing
	}
	return &engine.ToolResult{Info: info, ForModel: forModel, References: refs, ConnectorTokens: (len(forModel) + 3) / 4}
}

func (c *Connector) maxChars() int {
	if c.MaxPassageChars <= 0 {
		return 2000
	}
	return c.MaxPassageChars
}

// truncate cuts s to at most n bytes at a rune boundary, adding "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
