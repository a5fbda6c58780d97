package connector

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tramontane/tramontane/internal/apierr"
)

func hashKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// toolCache keeps each endpoint's tool list for a while.
type toolCache struct {
	mu sync.Mutex
	m  map[string]cachedTools // endpoint key → tools
}

type cachedTools struct {
	connectorID string
	tools       []*mcp.Tool
	at          time.Time
}

func newToolCache() *toolCache { return &toolCache{m: map[string]cachedTools{}} }

func (c *toolCache) get(key string, ttl time.Duration) ([]*mcp.Tool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Since(e.at) > ttl {
		return nil, false
	}
	return e.tools, true
}

func (c *toolCache) put(key, connectorID string, tools []*mcp.Tool) {
	c.mu.Lock()
	c.m[key] = cachedTools{connectorID: connectorID, tools: tools, at: time.Now()}
	c.mu.Unlock()
}

// forget drops every cached list of a connector.
func (c *toolCache) forget(connectorID string) {
	c.mu.Lock()
	for k, e := range c.m {
		if e.connectorID == connectorID {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// observe reports one MCP request to the observer.
func (s *Service) observe(r *resolved, op string, start time.Time, err error) {
	if s.obs != nil {
		s.obs.MCPCall(r.name(), op, time.Since(start), err)
	}
}

// tools lists the MCP tools of r (cached unless refresh).
func (s *Service) tools(ctx context.Context, r *resolved, ep *endpoint, refresh bool) ([]*mcp.Tool, error) {
	if !refresh {
		if t, ok := s.cache.get(ep.key, s.cfg.ToolsTTL); ok {
			return t, nil
		}
	}
	var out []*mcp.Tool
	start := time.Now()
	err := s.pool.do(ctx, ep, func(ctx context.Context, cs *mcp.ClientSession) error {
		out = out[:0]
		for t, err := range cs.Tools(ctx, nil) {
			if err != nil {
				return err
			}
			out = append(out, t)
			if len(out) > 1000 {
				return errors.New("the server lists more than 1000 tools")
			}
		}
		return nil
	})
	s.observe(r, "list_tools", start, err)
	if err != nil {
		return nil, err
	}
	s.cache.put(ep.key, r.id(), out)
	return out, nil
}

// apiError turns an MCP failure into an API error: an address refused by
// the SSRF policy is the client's 400, an unreachable or failing server a
// 502, a timeout a 504.
func apiError(r *resolved, err error) error {
	var be *blockedError
	var we *jsonrpc.Error
	switch {
	case errors.As(err, &be):
		return apierr.New(apierr.Invalid, "%s", be.Error())
	case apierr.KindOf(err) != apierr.Internal:
		return err
	case errors.As(err, &we) && we.Code != codeRejected:
		return apierr.Wrap(apierr.Upstream, err, "the MCP server of connector %s answered an error: %s", r.name(), we.Message)
	case strings.Contains(err.Error(), "did not answer within"):
		return apierr.Wrap(apierr.Timeout, err, "connector %s: %v", r.name(), err)
	}
	return apierr.Wrap(apierr.Upstream, err, "connector %s: %v", r.name(), err)
}

// ListTools returns the MCP tools of a connector, as the server describes
// them, one page of them (page counts from 1).
func (s *Service) ListTools(ctx context.Context, ws, idOrName, credName string, refresh bool, page, pageSize int) ([]*mcp.Tool, error) {
	r, err := s.resolve(ctx, ws, idOrName)
	if err != nil {
		return nil, err
	}
	ep, err := s.endpoint(ctx, ws, r, credName, "")
	if err != nil {
		return nil, err
	}
	tools, err := s.tools(ctx, r, ep, refresh)
	if err != nil {
		return nil, apiError(r, err)
	}
	if page < 1 {
		page = 1
	}
	if pageSize <= 0 {
		pageSize = 100
	}
	from := (page - 1) * pageSize
	if from >= len(tools) {
		return []*mcp.Tool{}, nil
	}
	return tools[from:min(len(tools), from+pageSize)], nil
}

// call runs one MCP tool and bounds its result.
func (s *Service) call(ctx context.Context, r *resolved, ep *endpoint, tool string, args map[string]any) (*CallResponse, error) {
	if args == nil {
		args = map[string]any{}
	}
	var res *mcp.CallToolResult
	start := time.Now()
	err := s.pool.do(ctx, ep, func(ctx context.Context, cs *mcp.ClientSession) error {
		var err error
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		return err
	})
	if err == nil && res.IsError {
		s.observe(r, "call_tool", start, errors.New("tool error"))
	} else {
		s.observe(r, "call_tool", start, err)
	}
	if err != nil {
		return nil, err
	}
	return s.bound(res), nil
}

// bound converts a result to the wire, keeping at most MaxResultBytes of
// content: long text is cut, and binary blocks that do not fit are replaced
// by a note.
func (s *Service) bound(res *mcp.CallToolResult) *CallResponse {
	budget := s.cfg.MaxResultBytes
	out := &CallResponse{Content: []json.RawMessage{}, IsError: res.IsError}
	for _, c := range res.Content {
		raw, err := json.Marshal(c)
		if err != nil {
			continue
		}
		if len(raw) > budget {
			note := fmt.Sprintf("[content cut: the result exceeds the connector result limit of %d bytes]", s.cfg.MaxResultBytes)
			if t, ok := c.(*mcp.TextContent); ok && budget > len(note)+64 {
				cut := t.Text[:max(0, min(len(t.Text), budget-len(note)-64))]
				for i := 0; i < utf8.UTFMax && !utf8.ValidString(cut); i++ {
					cut = cut[:len(cut)-1] // do not split a character
				}
				raw, _ = json.Marshal(&mcp.TextContent{Text: cut + "\n" + note})
			} else {
				raw, _ = json.Marshal(&mcp.TextContent{Text: note})
			}
			out.Content = append(out.Content, raw)
			budget = 0
			break
		}
		budget -= len(raw)
		out.Content = append(out.Content, raw)
	}
	if res.StructuredContent != nil {
		if b, err := json.Marshal(res.StructuredContent); err == nil && len(b) <= budget {
			out.StructuredContent = json.RawMessage(b)
		}
	}
	return out
}

// CallTool calls one tool of a connector directly.
func (s *Service) CallTool(ctx context.Context, ws, idOrName, credName, tool string, args map[string]any) (*CallResponse, error) {
	r, err := s.resolve(ctx, ws, idOrName)
	if err != nil {
		return nil, err
	}
	ep, err := s.endpoint(ctx, ws, r, credName, "")
	if err != nil {
		return nil, err
	}
	res, err := s.call(ctx, r, ep, tool, args)
	if err != nil {
		return nil, apiError(r, err)
	}
	return res, nil
}

// textOf renders a result for the model: text as is, other blocks as short
// descriptions.
func textOf(res *CallResponse) string {
	var b strings.Builder
	for _, raw := range res.Content {
		var c struct {
			Type     string `json:"type"`
			Text     string `json:"text"`
			MimeType string `json:"mimeType"`
			Data     string `json:"data"`
			URI      string `json:"uri"`
			Name     string `json:"name"`
			Resource struct {
				URI  string `json:"uri"`
				Text string `json:"text"`
				Blob string `json:"blob"`
			} `json:"resource"`
		}
		_ = json.Unmarshal(raw, &c)
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		switch c.Type {
		case "text":
			b.WriteString(c.Text)
		case "image", "audio":
			n := base64.StdEncoding.DecodedLen(len(c.Data))
			fmt.Fprintf(&b, "[%s content, %s, about %d bytes, shown to the user]", c.Type, c.MimeType, n)
		case "resource_link":
			fmt.Fprintf(&b, "[resource link %s: %s]", c.Name, c.URI)
		case "resource":
			if c.Resource.Text != "" {
				fmt.Fprintf(&b, "[resource %s]\n%s", c.Resource.URI, c.Resource.Text)
			} else {
				fmt.Fprintf(&b, "[binary resource %s]", c.Resource.URI)
			}
		default:
			b.Write(raw)
		}
	}
	if len(res.Content) == 0 && res.StructuredContent != nil {
		sc, _ := json.Marshal(res.StructuredContent)
		b.Write(sc)
	}
	return b.String()
}
