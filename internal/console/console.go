// Package console is Tramontane's web console: server-rendered
// html/template pages, embedded with go:embed, plus a little hand-written
// JavaScript for the live parts (streaming, uploads). A signed-in browser
// holds a server-side session made from an API key; every page reads, and
// every action writes, through the same /v1 API handlers (and so the same
// domain services and workspace rules) that SDK clients use.
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/library"
	"github.com/tramontane/tramontane/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console"

const (
	sessionCookie = "tramontane_session"
	loginCookie   = "tramontane_login"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf"
)

// Deps are what the console needs.
type Deps struct {
	// Auth checks keys at sign-in and on every request.
	Auth *auth.Service
	// API is the /v1 handler; the console reads and writes through it.
	API http.Handler
	// Libraries serves the retrieval preview (nil: no search box).
	Libraries *library.Service
	// Sessions keeps console sessions (nil: in memory, lost on restart).
	Sessions store.SessionStore
	// UsageStore holds the per-day usage the usage page charts (nil: no
	// usage page).
	UsageStore store.UsageStore
	Logger     *slog.Logger
	// IdleTimeout and MaxAge bound a session (defaults 2h and 12h).
	IdleTimeout, MaxAge time.Duration
	// SecureCookies marks cookies Secure even on plain HTTP (behind a TLS
	// proxy); they are always Secure on TLS connections.
	SecureCookies bool
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Console is the web console's handler.
type Console struct {
	Deps
	mux      *routeMux
	sessions *sessions
	throttle *throttle
	pages    map[string]*template.Template
}

// New builds the console.
func New(d Deps) (*Console, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.IdleTimeout <= 0 {
		d.IdleTimeout = 2 * time.Hour
	}
	if d.MaxAge <= 0 {
		d.MaxAge = 12 * time.Hour
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	c := &Console{Deps: d, mux: &routeMux{ServeMux: http.NewServeMux()}, sessions: newSessions(d.Sessions, d.IdleTimeout, d.MaxAge, d.Now),
		throttle: &throttle{max: 10, window: time.Minute, failed: map[string][]time.Time{}}}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	fileServer := http.StripPrefix(Prefix+"/static/", http.FileServerFS(static))
	c.mux.Handle("GET "+Prefix+"/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fileServer.ServeHTTP(w, r)
	}))
	c.mux.HandleFunc("GET "+Prefix+"/login", c.loginPage)
	c.mux.HandleFunc("POST "+Prefix+"/login", c.login)
	c.mux.Handle("POST "+Prefix+"/logout", c.signedIn(c.logout))
	c.mux.Handle("GET "+Prefix+"/{$}", c.signedIn(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/agents", http.StatusSeeOther)
	}))
	c.mux.Handle("GET "+Prefix+"/agents", c.signedIn(c.agentsPage))
	c.mux.Handle("GET "+Prefix+"/agents/new", c.signedIn(c.agentEditPage))
	c.mux.Handle("GET "+Prefix+"/agents/{agent_id}", c.signedIn(c.agentPage))
	c.mux.Handle("GET "+Prefix+"/agents/{agent_id}/edit", c.signedIn(c.agentEditPage))
	c.mux.Handle("GET "+Prefix+"/agents/{agent_id}/diff", c.signedIn(c.agentDiffPage))
	c.mux.Handle("GET "+Prefix+"/playground", c.signedIn(c.playgroundPage))
	c.mux.Handle("GET "+Prefix+"/conversations", c.signedIn(c.conversationsPage))
	c.mux.Handle("GET "+Prefix+"/conversations/{conversation_id}", c.signedIn(c.conversationPage))
	c.mux.Handle("GET "+Prefix+"/libraries", c.signedIn(c.librariesPage))
	c.mux.Handle("GET "+Prefix+"/libraries/{library_id}", c.signedIn(c.libraryPage))
	c.mux.Handle("POST "+Prefix+"/libraries/{library_id}/search", c.signedIn(c.librarySearch))
	c.mux.Handle("GET "+Prefix+"/files", c.signedIn(c.filesPage))
	c.mux.Handle("GET "+Prefix+"/connectors", c.signedIn(c.connectorsPage))
	c.mux.Handle("GET "+Prefix+"/connectors/{connector_id}", c.signedIn(c.connectorPage))
	c.mux.Handle("GET "+Prefix+"/usage", c.signedIn(c.usagePage))
	c.mux.Handle(Prefix+"/api/v1/", c.signedIn(c.proxy))
	c.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Not found", Error: "There is no page at " + r.URL.Path + "."})
	})
}

// ServeHTTP sets the security headers, checks the request's origin and
// serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if strings.HasPrefix(r.URL.Path, Prefix+"/api/") {
		// API answers (JSON, downloads) are never pages with powers.
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox; frame-ancestors 'none'")
	} else {
		h.Set("Content-Security-Policy", pageCSP)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	if !safeMethod(r.Method) && !sameOrigin(r) {
		c.refuse(w, r, "cross-origin request refused")
		return
	}
	c.mux.ServeHTTP(w, r)
}

// pageCSP is the Content-Security-Policy of the console's pages: scripts,
// styles and everything else from the console itself, nothing inline.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Redirect sends "/" to the console.
func Redirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, Prefix+"/", http.StatusFound)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin reports whether a state-changing request comes from the
// console's own origin. Browsers send Origin on every cross-origin POST
// (and on same-origin ones); a request without Origin or Referer is not
// from a browser page and is left to the CSRF token.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return true
		}
		origin = ref
	}
	if origin == "null" {
		return false
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	own := scheme + r.Host
	return origin == own || strings.HasPrefix(origin, own+"/")
}

// refuse answers 403 to a request that failed the CSRF checks.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, why string) {
	c.Logger.Warn("console: refused", "path", r.URL.Path, "reason", why)
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Error(w, why, http.StatusForbidden)
		return
	}
	// A browser's form post: answer with a page (an API path's sandboxing
	// policy would hide its styles).
	w.Header().Set("Content-Security-Policy", pageCSP)
	c.render(w, r, http.StatusForbidden, "error", page{Title: "Refused", Error: "This request was refused: " + why + ". Reload the page and try again."})
}

type ctxKey struct{}

// current returns the request's session (set by signedIn).
func current(r *http.Request) *session {
	s, _ := r.Context().Value(ctxKey{}).(*session)
	return s
}

// signedIn requires a live session whose key is still valid, and a CSRF
// token on every state-changing request. It puts the key's principal in
// the request's context, which the API handlers then use.
func (c *Console) signedIn(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ss *session
		if ck, err := r.Cookie(sessionCookie); err == nil {
			ss = c.sessions.get(r.Context(), ck.Value)
		}
		if ss == nil {
			c.toLogin(w, r, "")
			return
		}
		p, err := c.Auth.AuthenticateHash(r.Context(), ss.keyHash)
		if err != nil {
			c.sessions.removeKey(r.Context(), ss.keyHash)
			c.clearCookie(w, r, sessionCookie)
			c.toLogin(w, r, "Your session ended: "+errorMessage(err)+".")
			return
		}
		if !safeMethod(r.Method) {
			tok := r.Header.Get(csrfHeader)
			if tok == "" && !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				tok = r.PostFormValue(csrfField)
			}
			if !sameToken(tok, ss.csrf) {
				c.refuse(w, r, "missing or wrong CSRF token")
				return
			}
		}
		ctx := context.WithValue(auth.WithPrincipal(r.Context(), p), ctxKey{}, ss)
		next(w, r.WithContext(ctx))
	})
}

// toLogin sends an unauthenticated request to the sign-in page (API
// calls get a 401 instead).
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request, msg string) {
	if strings.HasPrefix(r.URL.Path, Prefix+"/api/") {
		http.Error(w, "not signed in", http.StatusUnauthorized)
		return
	}
	if msg != "" || !safeMethod(r.Method) {
		c.loginForm(w, r, http.StatusUnauthorized, msg)
		return
	}
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: Prefix, HttpOnly: true,
		Secure: c.SecureCookies || r.TLS != nil, SameSite: http.SameSiteStrictMode,
		MaxAge: int(maxAge / time.Second),
	})
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: Prefix, HttpOnly: true,
		Secure: c.SecureCookies || r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil && c.sessions.get(r.Context(), ck.Value) != nil {
		http.Redirect(w, r, Prefix+"/agents", http.StatusSeeOther)
		return
	}
	c.loginForm(w, r, http.StatusOK, "")
}

// loginForm renders the sign-in page with a fresh double-submit token
// (there is no session yet to hold one).
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := token()
	c.setCookie(w, r, loginCookie, tok, time.Hour)
	c.render(w, r, status, "login", page{Title: "Sign in", CSRF: tok, Error: msg})
}

// login exchanges an API key for a session.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue(csrfField), ck.Value) {
		c.refuse(w, r, "missing or wrong sign-in token")
		return
	}
	if !c.throttle.allow(clientIP(r), c.Now()) {
		c.loginForm(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from this address; wait a minute.")
		return
	}
	key := strings.TrimSpace(r.PostFormValue("api_key"))
	p, err := c.Auth.Authenticate(r.Context(), "Bearer "+key)
	if err != nil || key == "" {
		c.throttle.fail(clientIP(r), c.Now())
		msg := "Sign-in failed: this key is not valid."
		if err != nil && !errors.Is(err, context.Canceled) {
			msg = "Sign-in failed: " + errorMessage(err) + "."
		}
		c.loginForm(w, r, http.StatusUnauthorized, msg)
		return
	}
	ss, err := c.sessions.create(r.Context(), auth.Hash(key), p.KeyName)
	if err != nil {
		c.Logger.Error("console: session", "error", err)
		c.loginForm(w, r, http.StatusServiceUnavailable, "Sign-in failed: sessions cannot be stored right now.")
		return
	}
	c.clearCookie(w, r, loginCookie)
	c.setCookie(w, r, sessionCookie, ss.id, c.MaxAge)
	http.Redirect(w, r, Prefix+"/agents", http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ss := current(r); ss != nil {
		c.sessions.remove(r.Context(), ss.id)
	}
	c.clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}
