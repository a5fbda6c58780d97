package console_test

// Browser scenarios in real Chromium (Debian's chromium package), driven
// with chromedp against the real server and the scripted model. Each
// scenario saves a screenshot; with CONSOLE_SCREENSHOTS=1 they go to
// docs/screenshots/ (the committed ones), else to a temporary directory.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	sdk "github.com/tramontane/tramontane/client"
)

// browser is one Chromium tab for a test.
type browser struct {
	t    *testing.T
	ctx  context.Context
	shot string // screenshot directory
}

func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (scripts/install-deps.sh installs it); CI must run the browser tests")
	}
	t.Skip("chromium is not installed; install Debian's chromium package to run the browser tests")
	return ""
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	path := findChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("hide-scrollbars", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelC()
		cancelA()
	})
	// Start the browser now, without a deadline (its life is ctx's).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	shot := t.TempDir()
	if os.Getenv("CONSOLE_SCREENSHOTS") == "1" {
		shot = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(shot, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &browser{t: t, ctx: ctx, shot: shot}
}

// do runs steps with a generous deadline (the machine may be loaded).
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (page: %s)", what, err, b.text("body"))
	}
}

// waitPath waits until the page's path matches the regular expression re and the page
// has loaded: for navigations that the page's script starts, during which
// a DOM query may fail.
func (b *browser) waitPath(re string) {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new RegExp(`+quote(re)+`).test(location.pathname) && document.readyState === 'complete'`))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("the page did not reach %s (at %s)", re, b.text("body"))
}

// eventually waits until a JavaScript expression is true, across page
// loads that the page's own script starts.
func (b *browser) eventually(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === 'complete' && !!(`+expr+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("%s: timed out (page: %s)", what, b.text("body"))
}

// text returns the text of the first element matching a CSS selector.
func (b *browser) text(sel string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){const e=document.querySelector(`+quote(sel)+`);return e?e.innerText:""})()`))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return s
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// waitJS waits until a JavaScript expression is truthy.
// It evaluates the expression itself, every 50 ms, and ignores errors: an
// evaluation can fail while a page the script navigated to replaces the
// old one, which a single in-page poll does not survive.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	check := chromedp.Evaluate[bool](`!!(` + expr + `)`)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(60 * time.Second)
		var last error
		for time.Now().Before(deadline) {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			ok, err := check(cctx, t)
			cancel()
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			last = err
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		return chromedp.Void{}, fmt.Errorf("timed out waiting for %s (last error: %v)", expr, last)
	}
}

// waitText waits until the element's text contains s.
func waitText(sel, s string) chromedp.Action[chromedp.Void] {
	return waitJS(`(function(){const e=document.querySelector(` + quote(sel) + `);return !!e && e.innerText.includes(` + quote(s) + `)})()`)
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// screenshot saves the page as name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	// No page may scroll sideways: name the element that sticks out.
	wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){
		const w = document.documentElement.clientWidth;
		if (document.documentElement.scrollWidth <= w + 1) return "";
		for (const e of document.querySelectorAll("body *")) {
			const r = e.getBoundingClientRect();
			if (r.right > w + 1 && getComputedStyle(e).position !== "absolute") return e.tagName + "." + e.className + "#" + e.id + " right=" + r.right + " > " + w;
		}
		return "scrollWidth " + document.documentElement.scrollWidth + " > " + w;
	})()`))
	if wide != "" {
		b.t.Errorf("%s: the page is wider than the window: %s", name, wide)
	}
	// Every visible control has a label or an aria-label.
	unlabeled, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("input, select, textarea, button"))
		.filter(e => e.type !== "hidden" && !(e.labels && e.labels.length) && !e.getAttribute("aria-label") &&
			!e.getAttribute("aria-labelledby") && !(e.tagName === "BUTTON" && e.textContent.trim()))
		.map(e => e.outerHTML.slice(0, 80)).join(" | ")`))
	if unlabeled != "" {
		b.t.Errorf("%s: controls without a label: %s", name, unlabeled)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shot, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// colorScheme emulates the system's light or dark setting.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return chromedp.Void{}, err
	}
}

func (b *browser) signIn(base, key string) {
	b.t.Helper()
	b.do("sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css("#api_key")),
		chromedp.SendKeys(css("#api_key"), key),
		chromedp.Click(css("#signin")),
	)
	b.waitPath("^/console/agents$")
}

// TestConsoleInChromium walks the console the way a new user would:
// sign in, build an agent, chat with streaming, answer a function call,
// allow a confirmation, branch a conversation, upload a document, sign
// out, and check isolation and CSRF.
func TestConsoleInChromium(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)

	// Sign in.
	b.do("login page", chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(css("#api_key")))
	b.screenshot("01-sign-in")
	b.signIn(e.url, e.key)

	// Create an agent with a function tool and web_search.
	b.do("agent builder",
		chromedp.Click(css("#new-agent")),
		chromedp.WaitVisible(css("#f-name")),
		chromedp.SendKeys(css("#f-name"), "Weather desk"),
		chromedp.SendKeys(css("#f-description"), "Answers with sources"),
		chromedp.SendKeys(css("#f-instructions"), "Be concise and cite your sources."),
		chromedp.SendKeys(css("#f-temperature"), "0.3"),
		chromedp.SendKeys(css("#f-more-args"), `{"random_seed": 7}`),
		chromedp.Click(css("#t-web_search")),
		chromedp.Click(css("#add-function")),
		chromedp.SendKeys(css(".fn-name"), "get_stock_price"),
		chromedp.SendKeys(css(".fn-description"), "Price of a stock"),
		chromedp.SetValue(css(".fn-parameters"), `{"type": "object", "properties": {"ticker": {"type": "string"}}, "required": ["ticker"]}`),
	)
	// The schema editor validates as you type.
	b.do("schema validation",
		chromedp.SendKeys(css(".fn-parameters"), "}"),
		waitText(".fn-status", "Invalid schema"),
		chromedp.SetValue(css(".fn-parameters"), `{"type": "object", "properties": {"ticker": {"type": "string"}}, "required": ["ticker"]}`),
		chromedp.SendKeys(css(".fn-parameters"), " "),
		waitText(".fn-status", "Valid schema"),
	)
	b.screenshot("02-agent-builder")
	b.do("save agent", chromedp.Click(css("#save-agent")))
	b.waitPath("^/console/agents/ag[^/]+$")
	b.do("agent page", chromedp.WaitVisible(css("#edit-agent")))
	agentURL := eval[string](b, "location.href")
	agentID := agentURL[strings.LastIndex(agentURL, "/")+1:]
	if !strings.HasPrefix(agentID, "ag") {
		t.Fatalf("agent page %s", agentURL)
	}
	if s := b.text("main"); !strings.Contains(s, "get_stock_price") || !strings.Contains(s, "web_search") {
		t.Fatalf("agent page lacks its tools: %s", s)
	}
	if s := eval[string](b, `document.querySelector('main details pre').textContent`); !strings.Contains(s, `"random_seed": 7`) || !strings.Contains(s, `"temperature": 0.3`) {
		t.Fatalf("completion arguments not saved: %s", s)
	}
	b.screenshot("03-agent")

	// Chat: streamed answer, a tool card and a citation link.
	b.do("playground search",
		chromedp.Navigate(e.url+"/console/playground?agent_id="+agentID),
		chromedp.WaitVisible(css("#pg-input")),
		chromedp.SendKeys(css("#pg-input"), "search the tramontane"),
		chromedp.Click(css("#pg-send")),
		waitJS(`document.querySelector('.toolcard .tag.ok') && document.querySelector('a.citation') && document.querySelector('.usage')`),
	)
	if s := b.text("#pg-log"); !strings.Contains(s, "cold northern wind") || !strings.Contains(s, "web_search") {
		t.Fatalf("playground: %s", s)
	}
	if href := eval[string](b, `document.querySelector('a.citation').href`); !strings.HasPrefix(href, e.fake.URL+"/pages/") {
		t.Fatalf("citation links to %q", href)
	}
	if s := b.text(".msg.assistant .text"); s != "The tramontane is a cold northern wind [1]." {
		t.Fatalf("answer with its citation link: %q", s)
	}
	b.screenshot("04-playground-stream")
	b.do("tool card", chromedp.Click(css(".toolcard summary")), chromedp.WaitVisible(css(".toolcard .info")))
	if s := b.text(".toolcard .info"); !strings.Contains(s, "The Tramontane wind") {
		t.Fatalf("tool card info: %s", s)
	}

	// A function call: type its result in the form and continue.
	b.do("function call",
		chromedp.Click(css("#pg-new")),
		// The keyboard alone: Enter sends.
		chromedp.SendKeys(css("#pg-input"), "price of AAPL?"+kb.Enter),
		chromedp.WaitVisible(css(".result-form textarea")),
		chromedp.SendKeys(css(".result-form textarea"), "189.50 USD"),
		chromedp.Click(css(".result-form button")),
		waitText("#pg-log", "AAPL trades at 189.50 USD."),
	)
	b.screenshot("05-function-result")
	convURL := eval[string](b, `document.querySelector('#pg-conv-link').href`)

	// A confirmation: a new version requires confirming web_search.
	b.do("require confirmation",
		chromedp.Navigate(e.url+"/console/agents/"+agentID+"/edit"),
		chromedp.WaitVisible(css("#f-confirm")),
		waitJS(`document.querySelector('#t-web_search').checked && document.querySelector('.fn-name').value === 'get_stock_price'`),
		chromedp.SendKeys(css("#f-confirm"), "web_search"),
		chromedp.SendKeys(css("#f-version-message"), "confirm searches"),
		chromedp.Click(css("#save-agent")),
	)
	b.waitPath("^/console/agents/" + agentID + "$")
	b.do("new version", waitText(".versions", "confirm searches"))
	b.do("allow confirmation",
		chromedp.Navigate(e.url+"/console/playground?agent_id="+agentID),
		chromedp.WaitVisible(css("#pg-input")),
		chromedp.SendKeys(css("#pg-input"), "search again"),
		chromedp.Click(css("#pg-send")),
		chromedp.WaitVisible(css(`button[data-confirm="allow"]`)),
	)
	b.screenshot("06-confirmation")
	b.do("allowed", chromedp.Click(css(`button[data-confirm="allow"]`)), waitText("#pg-log", "cold northern wind"),
		waitJS(`document.querySelector('.toolcard .tag.ok')`))
	// Deny the next one: the model is told, and no search runs.
	b.do("deny",
		chromedp.SendKeys(css("#pg-input"), "search once more"),
		chromedp.Click(css("#pg-send")),
		waitJS(`document.querySelectorAll('button[data-confirm="deny"]:not([disabled])').length === 1`),
		chromedp.Click(css(`button[data-confirm="deny"]:not([disabled])`)),
		waitText("#pg-log", "Denied."),
		waitText("#pg-status", "Done."),
	)
	if n := eval[int](b, `document.querySelectorAll('.toolcard').length`); n != 1 {
		t.Fatalf("%d searches ran; the denied one must not", n)
	}

	// Generated images show inline; handoffs change the speaker.
	painter := e.agent(t, sdk.AgentCreateRequest{Name: "Painter", Model: "mistral-medium-latest", Tools: []sdk.Tool{sdk.BuiltinTool("image_generation")}})
	b.do("image",
		chromedp.Navigate(e.url+"/console/playground?agent_id="+painter.ID),
		chromedp.WaitVisible(css("#pg-input")),
		chromedp.SendKeys(css("#pg-input"), "draw the coast"),
		chromedp.Click(css("#pg-send")),
		waitJS(`(function(){const i=document.querySelector('.file img');return i && i.complete && i.naturalWidth>0})()`),
	)
	b.screenshot("15-image")
	billing := e.agent(t, sdk.AgentCreateRequest{Name: "Billing Agent", Model: "mistral-medium-latest", Instructions: "You are billing."})
	triage := e.agent(t, sdk.AgentCreateRequest{Name: "Triage", Model: "mistral-medium-latest", Instructions: "You are triage.", Handoffs: []string{billing.ID}})
	b.do("handoff",
		chromedp.Navigate(e.url+"/console/playground?agent_id="+triage.ID),
		chromedp.WaitVisible(css("#pg-input")),
		chromedp.SendKeys(css("#pg-input"), "I want a refund"),
		chromedp.Click(css("#pg-send")),
		waitText("#pg-log", "your refund is on its way"),
	)
	if s := b.text("#pg-log"); !strings.Contains(s, "Handed over to Billing Agent") || !strings.Contains(b.text(".msg.assistant .who"), "Billing Agent") {
		t.Fatalf("handoff: %s", s)
	}
	// Stop a run that takes too long.
	b.do("stop",
		chromedp.SendKeys(css("#pg-input"), "answer slowly"),
		chromedp.Click(css("#pg-send")),
		waitJS(`!document.querySelector('#pg-stop').disabled`),
		chromedp.Click(css("#pg-stop")),
		waitText("#pg-status", "Stopped."),
		waitJS(`!document.querySelector('#pg-send').disabled`),
		// The stopped run released the conversation: the next turn runs.
		chromedp.SendKeys(css("#pg-input"), "refund status?"),
		chromedp.Click(css("#pg-send")),
		waitText("#pg-status", "Done."),
	)
	if s := b.text("#pg-log"); strings.Contains(s, "already running") || strings.Contains(s, "Error") {
		t.Fatalf("after stopping: %s", s)
	}
	b.screenshot("16-handoff-stop")

	// Versions: diff v0 and v1, and make v0 active again.
	b.do("diff", chromedp.Navigate(agentURL), chromedp.WaitVisible(css("#diff-a")),
		chromedp.SetValue(css("#diff-a"), "0"), chromedp.SetValue(css("#diff-b"), "1"),
		chromedp.Click(css(`form[action$="/diff"] button`)), chromedp.WaitVisible(css(".dadd")))
	if s := b.text(".diff"); !strings.Contains(s, "+") || !strings.Contains(s, "requires_confirmation") {
		t.Fatalf("diff: %s", s)
	}
	b.screenshot("07-version-diff")

	// Branch a conversation from an earlier entry.
	b.do("conversation", chromedp.Navigate(convURL), chromedp.WaitVisible(css(".timeline")),
		chromedp.Click(css(".timeline .restart summary")),
		chromedp.SendKeys(css(".timeline .restart textarea"), "search the tramontane instead"),
		chromedp.Click(css(".timeline .restart button")),
	)
	b.waitPath("^/console/conversations/(?!" + convURL[strings.LastIndex(convURL, "/")+1:] + ")")
	b.do("branch page", chromedp.WaitVisible(css("#branched-from")), waitText(".timeline", "cold northern wind"),
		waitText(".timeline a.citation", "The Tramontane wind"))
	b.screenshot("08-branch")
	b.do("branch link", chromedp.Click(css("#branched-from a")), chromedp.WaitVisible(css("#branches a")))
	if s := b.text(".timeline"); !strings.Contains(s, "AAPL trades at 189.50 USD.") {
		t.Fatalf("original conversation changed: %s", s)
	}
	b.do("raw json", chromedp.Click(css(".timeline .entry details summary")), chromedp.WaitVisible(css(".timeline .entry details pre")))
	b.screenshot("09-conversation")
	// Continue it in the playground: its history shows, and it goes on.
	b.do("continue", chromedp.Navigate(convURL), chromedp.WaitVisible(css(".timeline")),
		chromedp.Click(css(`a[href^="/console/playground?conversation_id="]`)))
	b.waitPath("^/console/playground$")
	b.do("continued",
		waitText("#pg-log", "AAPL trades at 189.50 USD."),
		chromedp.SendKeys(css("#pg-input"), "thanks"),
		chromedp.Click(css("#pg-send")),
		waitText("#pg-log", "You said: thanks"),
	)
	if got := eval[string](b, `document.querySelector('#pg-conv-link').href`); got != convURL {
		t.Fatalf("continued %s, not %s", got, convURL)
	}

	// Upload a document and see it reach "done"; then search it.
	doc := filepath.Join(t.TempDir(), "winds.md")
	if err := os.WriteFile(doc, []byte("# Winds of France\n\nThe tramontane is a cold, dry wind from the north-west.\n\nThe mistral blows down the Rhône valley.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("library",
		chromedp.Navigate(e.url+"/console/libraries"),
		chromedp.WaitVisible(css("#lib-name")),
		chromedp.SendKeys(css("#lib-name"), "Winds"),
		chromedp.Click(css("#create-library")),
	)
	b.waitPath("^/console/libraries/[^/]+$")
	b.do("upload",
		chromedp.WaitVisible(css("#dropzone")),
		chromedp.SetUploadFiles(css("#doc-file"), []string{doc}),
		waitJS(`(function(){const s=document.querySelector('tr[data-doc] [data-status]');return s && s.textContent==='done'})()`),
		chromedp.Click(css("[data-preview]")),
		waitText("#preview", "cold, dry wind"),
	)
	// Drag and drop a second document onto the drop zone.
	b.do("drop",
		chromedp.Evaluate[chromedp.Void](`(function(){
			const dt = new DataTransfer();
			dt.items.add(new File(["The bora blows over the Adriatic."], "bora.txt", {type: "text/plain"}));
			document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
		})()`),
		waitJS(`document.querySelector('#uploads progress[value="100"]')`),
		waitJS(`(function(){const r=document.querySelectorAll('tr[data-doc] [data-status]');return r.length===2 && Array.from(r).every(s => s.textContent==='done')})()`),
		chromedp.SendKeys(css("#lib-q"), "tramontane wind"),
		chromedp.Click(css("#lib-search")),
	)
	b.waitPath("/search$")
	b.do("search hits", waitText("#hits", "score"))
	b.screenshot("10-library")

	// Share the library with another workspace.
	otherSecret, otherWS := e.otherKeyIn(t, "elsewhere")
	b.do("share", chromedp.SendKeys(css("#sh-who"), otherWS), chromedp.Click(css(`form[data-action$="/share"] button`)))
	b.eventually("shared", `document.body.innerText.includes(`+quote(otherWS+": Viewer")+`)`)

	// Files: upload, download, delete.
	b.do("files", chromedp.Navigate(e.url+"/console/files"), chromedp.WaitVisible(css("#dropzone")),
		chromedp.SetUploadFiles(css("#doc-file"), []string{doc}))
	b.eventually("uploaded file listed", `document.querySelector('a[download="winds.md"]')`)
	got := eval[string](b, `fetch(document.querySelector('a[download="winds.md"]').href).then(r => r.text())`)
	if !strings.Contains(got, "cold, dry wind") {
		t.Fatalf("downloaded %q", got)
	}
	b.screenshot("17-files")
	b.do("delete file", chromedp.Click(css(`button[aria-label="Delete winds.md"]`)))
	b.eventually("file deleted", `!document.querySelector('a[download="winds.md"]') && document.querySelector('a[download]')`)

	// Connectors: add an MCP server (a real one, on loopback, that wants a
	// bearer token and a header) and see its tools.
	b.do("add connector", chromedp.Navigate(e.url+"/console/connectors"), chromedp.WaitVisible(css("#conn-name")),
		chromedp.SendKeys(css("#conn-name"), "inventory"), chromedp.SendKeys(css("#conn-server"), startMCP(t, "s3cret", "X-Team: blue")),
		chromedp.SendKeys(css("#conn-desc"), "Stock levels"), chromedp.SendKeys(css("#conn-token"), "s3cret"),
		chromedp.SendKeys(css("#conn-hname"), "X-Team"), chromedp.SendKeys(css("#conn-hvalue"), "blue"),
		chromedp.Click(css("#create-connector")))
	b.waitPath("^/console/connectors/[^/]+$")
	b.do("connector tools", waitText("#tools", "Units in stock"))
	b.screenshot("18-connectors")
	connURL := eval[string](b, `location.href`)
	connID := connURL[strings.LastIndex(connURL, "/")+1:]
	// The agent builder offers it; the saved agent has it and its edit page shows it picked.
	b.do("connector in the agent builder", chromedp.Navigate(e.url+"/console/agents/new"), chromedp.WaitVisible(css("#f-name")),
		chromedp.SendKeys(css("#f-name"), "Stock desk"), chromedp.Click(css("#c-"+connID)), chromedp.Click(css("#save-agent")))
	b.waitPath("^/console/agents/ag[^/]+$")
	b.do("agent with a connector", waitJS(`document.querySelector('main a[href="/console/connectors/`+connID+`"]')`),
		chromedp.Click(css("#edit-agent")), waitJS(`document.getElementById("c-`+connID+`").checked`))

	// Keyboard: the first Tab reaches the skip link, which moves focus to
	// the main content.
	b.do("skip link", chromedp.Navigate(e.url+"/console/agents"), chromedp.WaitVisible(css("#new-agent")),
		chromedp.KeyEvent(kb.Tab), waitJS(`document.activeElement && document.activeElement.classList.contains('skip')`),
		chromedp.KeyEvent(kb.Enter), waitJS(`location.hash === '#main'`))

	// Agents: search, and an alias.
	b.do("agent search", chromedp.Navigate(e.url+"/console/agents?q=Paint"), chromedp.WaitVisible(css("table")))
	if s := b.text("table"); !strings.Contains(s, "Painter") || strings.Contains(s, "Weather desk") {
		t.Fatalf("search for Paint: %s", s)
	}
	b.do("alias", chromedp.Navigate(agentURL), chromedp.WaitVisible(css("#alias")),
		chromedp.SendKeys(css("#alias"), "prod"), chromedp.SetValue(css("#alias-version"), "0"),
		chromedp.Click(css(`form[data-action$="/aliases"] button`)))
	b.eventually("alias listed", `document.body.innerText.includes("prod → v0")`)
	// Chat with the alias: version 0 needs no confirmation for web_search.
	b.do("chat with an alias",
		chromedp.Navigate(e.url+"/console/playground?agent_id="+agentID+"&version=prod"),
		chromedp.WaitVisible(css("#pg-input")),
		chromedp.SendKeys(css("#pg-input"), "search by alias"),
		chromedp.Click(css("#pg-send")),
		waitText("#pg-log", "cold northern wind"),
	)
	if n := eval[int](b, `document.querySelectorAll('button[data-confirm]').length`); n != 0 {
		t.Fatalf("version 0 (alias prod) asked for a confirmation")
	}

	// Usage: tokens per day and model, drawn server-side as SVG.
	b.do("usage", chromedp.Navigate(e.url+"/console/usage"), chromedp.WaitVisible(css("#usage-chart rect")))
	if s := b.text("#usage-table"); !strings.Contains(s, "mistral-medium-latest") {
		t.Fatalf("usage table: %s", s)
	}
	b.screenshot("14-usage")

	// Small screens and dark mode.
	b.do("mobile dark", chromedp.EmulateViewport(375, 800), colorScheme("dark"),
		chromedp.Navigate(convURL), chromedp.WaitVisible(css(".timeline")))
	b.screenshot("11-mobile-dark")
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 380 {
		t.Errorf("at 375 px the page is %d px wide", w)
	}
	b.do("connector at 375 px", chromedp.Navigate(connURL), chromedp.WaitVisible(css("#tools")))
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 380 {
		t.Errorf("at 375 px the connector page is %d px wide", w)
	}
	b.do("desktop light", chromedp.EmulateViewport(1280, 900), colorScheme("light"))

	// CSRF: a form on another origin posting to the console is refused.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!DOCTYPE html><form id="f" method="post" action="` + e.url + `/console/api/v1/agents/` + agentID + `/version?version=0">` +
			`<input name="csrf" value="guess"><button id="go">Win a prize</button></form>`))
	}))
	defer evil.Close()
	b.do("cross-site post", chromedp.Navigate(evil.URL), chromedp.Click(css("#go")))
	b.waitPath("/version$")
	b.do("refused", waitText("body", "refused"))
	b.screenshot("12-csrf-refused")
	b.do("agent unchanged", chromedp.Navigate(agentURL), chromedp.WaitVisible(css("#edit-agent")))
	if s := b.text(".sub"); !strings.Contains(s, "active version 1") {
		t.Fatalf("the cross-site post changed the agent: %s", s)
	}

	// Switch the active version back to 0 from the versions list.
	b.do("make active", chromedp.Click(css(`button[aria-label="Make version 0 active"]`)))
	b.eventually("version 0 active", `document.querySelector('.sub').innerText.includes('active version 0')`)

	// Sign out; another workspace's key cannot see the agent.
	b.do("sign out", chromedp.Click(css("#signout")))
	b.waitPath("/login$")
	b.do("signed out", chromedp.Navigate(agentURL), chromedp.WaitVisible(css("#api_key")))
	b.signIn(e.url, otherSecret)
	if s := b.text("main"); strings.Contains(s, "Weather desk") {
		t.Fatalf("another workspace sees the agent: %s", s)
	}
	b.do("shared library", chromedp.Navigate(e.url+"/console/libraries"), waitText("main", "Winds"))
	b.do("other workspace", chromedp.Navigate(agentURL))
	b.waitPath("^/console/agents/" + agentID + "$")
	if s := b.text("main"); !strings.Contains(strings.ToLower(s), "not found") {
		t.Fatalf("another workspace's agent page: %s", s)
	}
	b.screenshot("13-other-workspace")
}
