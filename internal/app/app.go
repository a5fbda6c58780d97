// Package app wires Tramontane's services from a configuration: the store,
// blobs, auth, domain services and the HTTP API.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/cluster"
	"github.com/tramontane/tramontane/internal/completion"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/console"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/file"
	"github.com/tramontane/tramontane/internal/httpapi"
	"github.com/tramontane/tramontane/internal/metrics"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/providers"
	"github.com/tramontane/tramontane/internal/moderation"
	"github.com/tramontane/tramontane/internal/ratelimit"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
	"github.com/tramontane/tramontane/internal/tool/doclib"
)

// App is a wired server.
type App struct {
	Config  config.Config
	Store   *sqlstore.DB
	Auth    *auth.Service
	Handler *httpapi.Server
	// Console is the web console, mounted at /console/ ("/" redirects).
	Console *console.Console
	Logger  *slog.Logger

	closers  []io.Closer
	workers  io.Closer     // the library ingestion workers
	node     *cluster.Node // on PostgreSQL: this instance among the others
	internal http.Handler  // the cluster's internal endpoint (code calls)
}

// OpenStore opens (and migrates) the configured database.
func OpenStore(ctx context.Context, c config.Config) (*sqlstore.DB, error) {
	return sqlstore.Open(ctx, c.DatabaseURL, c.DataDir)
}

// New builds the application.
func New(ctx context.Context, c config.Config, logger *slog.Logger) (*App, error) {
	db, err := OpenStore(ctx, c)
	if err != nil {
		return nil, err
	}
	a := &App{Config: c, Store: db, Logger: logger, Auth: auth.New(db)}
	if c.BootstrapKey != "" {
		if err := a.Auth.EnsureBootstrap(ctx, c.BootstrapKey); err != nil {
			db.Close()
			return nil, fmt.Errorf("bootstrap key: %w", err)
		}
	}
	blobs, blobCloser, err := OpenBlobs(ctx, c)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("blob store: %w", err)
	}
	a.closers = append(a.closers, blobCloser)
	warnUnmigratedBlobs(c, logger)
	sweeper, _ := blobs.(tempSweeper) // the local store's partial uploads
	if sweeper != nil {
		if n, err := sweeper.SweepTemp(file.TempGrace); err != nil {
			logger.Warn("sweeping partial uploads", "error", err)
		} else if n > 0 {
			logger.Info("removed partial uploads left by a previous run", "count", n)
		}
	}
	files, err := file.NewService(ctx, db, blobs, int64(c.MaxUploadBytes))
	if err != nil {
		a.Close()
		return nil, err
	}
	router, err := newRouter(c, providers.Options{Logger: logger})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("model routing: %w", err)
	}
	limits, err := ratelimit.ParseConfig(c.Raw)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("rate limits: %w", err)
	}
	limiter, limCloser, err := newLimiter(ctx, c, limits, logger)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, limCloser)
	m := metrics.New()
	agents := agent.NewService(db)
	agents.CheckModels(func(name string) error { _, _, err := router.Resolve(name); return err })
	mod, err := moderation.FromConfig(c.Raw, router)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("moderation: %w", err)
	}
	agents.CheckGuardrails(func(raw json.RawMessage) error {
		gs, err := moderation.Parse("body.guardrails", raw)
		if err != nil {
			return err
		}
		return mod.Require(gs)
	})
	conns, closers, err := connectors(c, files, logger)
	if err != nil {
		for _, cl := range closers {
			cl.Close()
		}
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, closers...)
	libs, err := doclib.Wire(ctx, doclib.WireOptions{
		Store: db, Blobs: blobs, Router: router, EmbeddingsModel: c.EmbeddingsModel,
		MaxUploadBytes: int64(c.MaxUploadBytes), PublicURL: publicURL(c), Logger: logger,
	})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("libraries: %w", err)
	}
	conns[doclib.ToolName] = libs.Connector
	mcps, err := newConnectorService(ctx, c, db, m, logger)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, mcps)
	conns["connector"] = mcps.Runtime()
	agents.SetConnectors(mcps)
	if err := a.joinCluster(ctx, conns); err != nil {
		a.Close()
		return nil, err
	}
	// The ingestion workers stop in Close, before the store closes.
	a.workers = libs.Start(context.WithoutCancel(ctx))
	a.closers = append(a.closers, a.workers)
	if sweeper != nil {
		a.closers = append(a.closers, sweepEvery(sweeper, file.TempGrace, logger))
	}
	eng := engine.New(db, agents, router, conns, engine.Options{MaxModelCalls: c.Engine.MaxModelCalls, MaxRepeats: c.Engine.MaxRepeats, ToolTimeout: c.Engine.ToolTimeout, RunLease: c.Engine.RunLease,
		PingInterval: c.Engine.PingInterval,
		LocalLocks:   db.Backend() == "sqlite"}, observer{m}, logger)
	eng.SetGuard(mod)
	a.Handler = httpapi.New(httpapi.Deps{
		Store: db, Auth: a.Auth, Agents: agents, Files: files, Engine: eng,
		Libraries: libs.Library, ModelRouter: router, Connectors: mcps, Usage: console.Recorder{Store: db},
		Completions: completion.New(router, agents, observer{m}, mod), Moderation: mod,
		Limiter: limiter, Metrics: m,
		Models: routerCatalog{model.NewCatalog(router, model.CatalogOptions{Logger: logger})}, Logger: logger, MaxBodyBytes: int64(c.MaxBodyBytes), PublicURL: c.PublicURL,
		StreamPing:      c.Engine.PingInterval,
		BodyIdleTimeout: c.HTTP.BodyIdleTimeout, BodyMinRate: int64(c.HTTP.BodyMinRate),
	})
	a.Console, err = console.New(console.Deps{Auth: a.Auth, API: a.Handler, Libraries: libs.Library, UsageStore: db, Sessions: db, Logger: logger,
		SecureCookies: strings.HasPrefix(c.PublicURL, "https://")})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Handler.Handle(console.Prefix+"/", a.Console, true)
	a.Handler.Handle("GET /{$}", http.HandlerFunc(console.Redirect), true)
	return a, nil
}

// publicURL is the base of links the server writes into stored content
// (citations): the configured public URL, else the listen address.
func publicURL(c config.Config) string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return "http://" + c.Addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// StopWorkers stops background ingestion now (for tests that drive
// ingestion by hand with a library service of their own). Close still
// works afterwards.
func (a *App) StopWorkers() {
	if a.workers != nil {
		_ = a.workers.Close()
	}
}

// Close releases the app's resources in the reverse order of their
// creation (ingestion workers, connector sessions, rate-limit and blob
// stores), then the store.
func (a *App) Close() error {
	for i := len(a.closers) - 1; i >= 0; i-- {
		_ = a.closers[i].Close()
	}
	return a.Store.Close()
}

// Serve listens on the configured address until ctx ends, then shuts down
// gracefully: it stops accepting, and lets in-flight requests finish within
// the shutdown timeout. ready, if not nil, receives the bound address.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return err
	}
	a.SetInstanceURL(instanceURL(ln.Addr().String()))
	ln = httpapi.LimitListener(ln, a.Config.HTTP.MaxConnsPerClient)
	srv := &http.Server{
		Handler:           a.HTTPHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	a.Logger.Info("listening", "addr", ln.Addr().String(), "store", a.Store.Backend(), "data_dir", a.Config.DataDir)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down", "grace", a.Config.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		a.Logger.Warn("shutdown deadline passed; closing remaining connections")
		_ = srv.Close()
	}
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		return e
	}
	return err
}

// observer feeds the engine's upstream, token and tool events to metrics.
type observer struct{ m *metrics.Metrics }

func (o observer) Upstream(provider, model string, d, ttft time.Duration, err error) {
	o.m.ObserveUpstream(provider, model, d, ttft)
	if err != nil {
		o.m.Error(apierr.KindOf(err).String())
	}
}

func (o observer) Tokens(model string, prompt, completion, connector int) {
	o.m.AddTokens(model, prompt, completion, connector)
}

func (o observer) Tool(name string, ok bool) { o.m.ToolExecution(name, ok) }

// sweeper removes dead partial uploads periodically (a server that
// crashed while another instance shares the directory leaves some that
// are too young for the sweep at start).
type sweeper struct{ stop chan struct{} }

// tempSweeper is a blob store with partial uploads on disk to sweep.
type tempSweeper interface {
	SweepTemp(olderThan time.Duration) (int, error)
}

func sweepEvery(b tempSweeper, every time.Duration, log *slog.Logger) io.Closer {
	s := &sweeper{stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				if _, err := b.SweepTemp(file.TempGrace); err != nil {
					log.Warn("sweeping partial uploads", "error", err)
				}
			}
		}
	}()
	return s
}

// Close stops the sweeper.
func (s *sweeper) Close() error {
	close(s.stop)
	return nil
}
