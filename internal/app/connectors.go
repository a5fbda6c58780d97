package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/connector"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/file"
	"github.com/tramontane/tramontane/internal/metrics"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
	"github.com/tramontane/tramontane/internal/tool/codeexec"
	"github.com/tramontane/tramontane/internal/tool/imagegen"
	"github.com/tramontane/tramontane/internal/tool/websearch"
)

// saver stores a file a connector generated in the conversation's
// workspace, so that the Files API serves it.
func saver(files *file.Service, tool string) func(ctx context.Context, ws, name, mimeType string, r io.Reader) (string, error) {
	return func(ctx context.Context, ws, name, mimeType string, r io.Reader) (string, error) {
		f, err := files.Put(ctx, ws, r, file.UploadMeta{Filename: name, ContentType: mimeType, Purpose: "agents", Source: tool})
		if err != nil {
			return "", err
		}
		return f.ID, nil
	}
}

// connectors builds the built-in connectors that are configured. The
// others stay unconfigured: a call to them yields a tool.execution entry
// explaining what to configure. closers release what they hold.
func connectors(c config.Config, files *file.Service, logger *slog.Logger) (conns engine.Connectors, closers []io.Closer, err error) {
	conns = engine.Connectors{}
	ciCfg, err := codeexec.ParseConfig(c.Raw)
	if err != nil {
		return nil, nil, fmt.Errorf("code_interpreter: %w", err)
	}
	// A disabled or unavailable sandbox still gets a connector: it says
	// why on every call, and never runs code unsandboxed.
	ci := codeexec.New(ciCfg, saver(files, "code_interpreter"), logger)
	conns["code_interpreter"] = ci
	closers = append(closers, ci)
	wcfg, err := websearch.Load(c.Raw, nil)
	if err != nil {
		return nil, closers, fmt.Errorf("web_search: %w", err)
	}
	if wcfg.Enabled() {
		ws, err := websearch.New(wcfg)
		if err != nil {
			return nil, closers, fmt.Errorf("web_search: %w", err)
		}
		conns[websearch.ToolWebSearch] = ws
		conns[websearch.ToolWebSearchPremium] = ws.Premium()
		logger.Info("connector enabled", "tool", "web_search")
	}
	icfg, err := imagegen.Load(c.Raw, nil)
	if err != nil {
		return nil, closers, fmt.Errorf("image_generation: %w", err)
	}
	if icfg.Enabled() {
		ig, err := imagegen.New(icfg, saver(files, imagegen.ToolName))
		if err != nil {
			return nil, closers, fmt.Errorf("image_generation: %w", err)
		}
		conns[imagegen.ToolName] = ig
		logger.Info("connector enabled", "tool", "image_generation")
	}
	return conns, closers, nil
}

// newConnectorService builds the Connectors API (registered MCP servers)
// from the "connectors:" section and TRAMONTANE_SECRET_KEY.
func newConnectorService(ctx context.Context, c config.Config, db *sqlstore.DB, m *metrics.Metrics, logger *slog.Logger) (*connector.Service, error) {
	cfg, err := connector.Load(c.Raw, nil)
	if err != nil {
		return nil, fmt.Errorf("connectors: %w", err)
	}
	svc, err := connector.New(ctx, db, cfg, mcpObserver{m}, logger)
	if err != nil {
		return nil, fmt.Errorf("connectors: %w", err)
	}
	for _, s := range cfg.Servers {
		logger.Info("operator-defined connector", "name", s.Name, "workspaces", s.Workspaces)
	}
	return svc, nil
}

// mcpObserver feeds MCP requests to metrics.
type mcpObserver struct{ m *metrics.Metrics }

func (o mcpObserver) MCPCall(connector, op string, d time.Duration, err error) {
	o.m.MCPCall(connector, op, d, err == nil)
}
