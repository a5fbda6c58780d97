// Package codeexec is the code_interpreter connector: it runs the model's
// Python code in a bubblewrap sandbox, never outside one.
//
// Each conversation gets its own long-lived sandbox (a session) running a
// small notebook driver, so variables, imports and files in the work dir
// persist between calls like notebook cells. Sessions end after an idle
// timeout, when evicted to make room (at most max_sessions live), or when
// a call exceeds its wall-clock limit or crashes; the next call then
// starts a fresh sandbox and its output says so.
//
// Isolation: user, pid, network, ipc, uts and cgroup namespaces
// (--unshare-all), no network at all, read-only /usr and a few /etc files,
// a size-limited tmpfs work dir, its own /proc, a minimal read-only /dev,
// no nested user namespaces, a seccomp filter, and rlimits (address space,
// CPU time, tasks, file size, open files) applied by prlimit inside the
// sandbox. When the server runs as root the sandbox is started as an
// unprivileged uid (nobody by default), so the sandbox user never maps to
// host root. cgroup v2 limits are added where a delegated hierarchy exists.
//
// Output: stdout and stderr (also of subprocesses), the repr of the last
// expression, or the traceback. Files the call creates or changes anywhere
// under /sandbox (outside hidden directories) are saved through SaveFile and
// returned as tool_file chunks; plt.show() and figures left open at the
// end of a call are saved as plot_N.png.
package codeexec

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"os"
	"path"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/model"
)

//go:embed driver.py
var driverSource string

// ToolName is the built-in tool this package implements.
const ToolName = "code_interpreter"

// maxCodeBytes bounds the code of one call.
const maxCodeBytes = 1 << 20

// SaveFile stores a file produced by the sandbox in the Files API of the
// workspace and returns its id.
type SaveFile func(ctx context.Context, workspace, filename, mimeType string, r io.Reader) (fileID string, err error)

// Interpreter is the code_interpreter connector (an engine.Connector).
type Interpreter struct {
	cfg  Config
	save SaveFile
	log  *slog.Logger

	// unavailable says why no sandbox can run; Execute then fails.
	unavailable error

	cacheDir      string
	seccomp       []byte
	cgroup        *cgroupParent
	pythonVersion string

	fontsOnce sync.Once
	fontsDone chan struct{}
	fontFile  string // set before fontsDone closes

	pool      *pool
	closeOnce sync.Once
}

// New returns the connector. It checks the sandbox at once (see
// Available) and logs whether it is usable and why not; when it is not,
// the connector still exists and every call fails with a clear error. It
// never runs code outside the sandbox. An invalid cfg makes the connector
// unavailable too. Call Close at shutdown.
func New(cfg Config, save SaveFile, logger *slog.Logger) *Interpreter {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	ix := &Interpreter{cfg: cfg, save: save, log: logger, fontsDone: make(chan struct{})}
	ix.unavailable = ix.setup()
	if ix.unavailable != nil {
		ix.fontsOnce.Do(func() { close(ix.fontsDone) })
		logger.Warn("code_interpreter is unavailable", "reason", ix.unavailable.Error())
		return ix
	}
	ix.pool = newPool(ix, cfg.MaxSessions, cfg.IdleTimeout)
	return ix
}

// setup validates the configuration and probes the sandbox.
func (ix *Interpreter) setup() error {
	if !*ix.cfg.Enabled {
		return errors.New("disabled by configuration (code_interpreter.enabled: false)")
	}
	if err := ix.cfg.Validate(); err != nil {
		return err
	}
	if err := ix.checkPaths(); err != nil {
		return err
	}
	prog, err := seccompProgram()
	if err != nil {
		return err
	}
	ix.seccomp = prog
	dir, err := makeCacheDir()
	if err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	ix.cacheDir = dir
	cg, why := detectCgroup(ix.cfg.Cgroup)
	ix.cgroup = cg
	if err := ix.probe(context.Background()); err != nil {
		os.RemoveAll(dir)
		ix.cacheDir = ""
		return err
	}
	uid := "the server's own uid"
	if os.Geteuid() == 0 {
		uid = fmt.Sprintf("uid %d, gid %d", *ix.cfg.UID, *ix.cfg.GID)
	}
	cgroups := "cgroup v2 limits in "
	if cg == nil {
		cgroups = "no cgroup limits (" + why + ")"
	} else {
		cgroups += cg.dir
	}
	ix.log.Info("code_interpreter is available", "python", ix.pythonVersion, "runs_as", uid,
		"seccomp", len(ix.seccomp) > 0, "cgroups", cgroups, "max_sessions", ix.cfg.MaxSessions,
		"timeout", ix.cfg.Timeout.String())
	return nil
}

// prepareFonts builds matplotlib's font cache in the background.
func (ix *Interpreter) prepareFonts() {
	defer close(ix.fontsDone)
	name, err := ix.buildFontCache(context.Background())
	if err != nil {
		ix.log.Warn("code_interpreter: no prebuilt matplotlib font cache; each session builds its own", "error", err)
		return
	}
	ix.fontFile = name
}

// waitFonts waits for the font cache, building it on first use (a server
// that never plots never pays for it).
func (ix *Interpreter) waitFonts(ctx context.Context) error {
	ix.fontsOnce.Do(func() { go ix.prepareFonts() })
	select {
	case <-ix.fontsDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IdleTimeout is how long a session lives without a call.
func (ix *Interpreter) IdleTimeout() time.Duration { return ix.cfg.IdleTimeout }

// Available reports why the sandbox cannot run (nil when it can): missing
// bubblewrap, Python or prlimit, user namespaces that do not work (a test
// sandbox is actually run), an invalid configuration, or enabled: false.
func (ix *Interpreter) Available() error {
	if ix.unavailable != nil {
		return fmt.Errorf("code_interpreter is unavailable: %w", ix.unavailable)
	}
	return nil
}

// Close ends every session and removes the cache dir.
func (ix *Interpreter) Close() error {
	ix.closeOnce.Do(func() {
		if ix.pool != nil {
			ix.pool.shutdown()
		}
		ix.fontsOnce.Do(func() { close(ix.fontsDone) }) // never started
		<-ix.fontsDone
		if ix.cacheDir != "" {
			os.RemoveAll(ix.cacheDir)
		}
	})
	return nil
}

// Definition is the function the model sees.
func (ix *Interpreter) Definition(agent.Tool) model.ToolDef {
	return model.ToolDef{
		Name: ToolName,
		Description: "Run Python 3 code in a sandbox and return its output. State persists between calls in " +
			"this conversation, like notebook cells; the value of the last expression is shown. numpy, pandas " +
			"and matplotlib are available; there is no network access. Figures (plt.show() or left open) and " +
			"files written to the working directory are returned to the user.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"code":{"type":"string","description":"Python code to run"}},"required":["code"]}`),
	}
}

// Execute runs one call in the conversation's session.
func (ix *Interpreter) Execute(ctx context.Context, call engine.ToolCall) (*engine.ToolResult, error) {
	if err := ix.Available(); err != nil {
		return nil, err
	}
	var args struct {
		Code *string `json:"code"`
	}
	if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil || args.Code == nil {
		return nil, errors.New(`code_interpreter: the arguments must be a JSON object with a "code" string`)
	}
	code := *args.Code
	if strings.TrimSpace(code) == "" {
		return nil, errors.New("code_interpreter: the code is empty")
	}
	if len(code) > maxCodeBytes {
		return nil, fmt.Errorf("code_interpreter: the code is longer than %d bytes", maxCodeBytes)
	}
	key := call.Workspace + "\x00" + call.ConversationID
	ephemeral := call.ConversationID == ""
	if ephemeral {
		key = "ephemeral\x00" + uuid.NewString()
	}
	s, note, err := ix.pool.acquire(ctx, key)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("code_interpreter: %w", err)
	}
	s.ephemeral = ephemeral
	rep, fail, err := s.exec(ctx, code, ix.cfg.Timeout)
	if fail != "" {
		ix.log.Info("code_interpreter session ended", "workspace", call.Workspace, "conversation_id", call.ConversationID, "reason", fail)
		ix.pool.release(s, fail+"; variables and files from earlier calls are gone")
	} else {
		ix.pool.release(s, "")
	}
	if err != nil {
		return nil, err
	}
	return ix.result(ctx, call.Workspace, code, note, rep, fail), nil
}

// result turns a driver reply into the tool.execution info, the model's
// text and tool_file chunks.
func (ix *Interpreter) result(ctx context.Context, workspace, code, note string, rep *reply, fail string) *engine.ToolResult {
	var out strings.Builder
	if note != "" {
		fmt.Fprintf(&out, "[note: this call started a new Python session: %s]\n", note)
	}
	var chunks []json.RawMessage
	var saved, problems []string
	if rep != nil {
		out.WriteString(rep.Output)
		if rep.Value != nil {
			sep(&out)
			out.WriteString(*rep.Value)
		}
		if rep.Error != nil {
			sep(&out)
			out.WriteString(*rep.Error)
		}
		chunks, saved, problems = ix.saveFiles(ctx, workspace, rep)
		for _, sk := range rep.Skipped {
			problems = append(problems, fmt.Sprintf("%s was not returned: %s", cleanName(sk.Path), sk.Reason))
		}
	}
	if fail != "" {
		sep(&out)
		fmt.Fprintf(&out, "[error: %s; the Python session was stopped, and its variables and files are lost. The next call starts a fresh session.]", fail)
	}
	for _, p := range problems {
		sep(&out)
		fmt.Fprintf(&out, "[%s]", p)
	}
	text := clip(out.String(), 3*ix.cfg.OutputBytes)
	info := map[string]any{"code": code, "code_output": text}
	if fail != "" {
		info["error"] = fail
	}
	forModel := text
	if forModel == "" {
		forModel = "(no output)"
	}
	if len(saved) > 0 {
		forModel += "\n[files returned to the user: " + strings.Join(saved, ", ") + "]"
	}
	return &engine.ToolResult{Info: info, ForModel: forModel, Chunks: chunks}
}

// sep starts a new line in b unless it is empty or already at one.
func sep(b *strings.Builder) {
	if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
		b.WriteByte('\n')
	}
}

// saveFiles stores the call's files and makes their tool_file chunks.
func (ix *Interpreter) saveFiles(ctx context.Context, workspace string, rep *reply) (chunks []json.RawMessage, saved, problems []string) {
	if len(rep.Files) == 0 {
		return nil, nil, nil
	}
	if ix.save == nil {
		return nil, nil, []string{fmt.Sprintf("%d file(s) were written but this server does not save files", len(rep.Files))}
	}
	for i, f := range rep.Files {
		if i >= ix.cfg.MaxOutputFiles {
			break
		}
		name := cleanName(f.Path)
		ext := strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
		id, err := ix.save(ctx, workspace, name, mimeType(ext), strings.NewReader(string(f.Data)))
		if err != nil {
			ix.log.Warn("code_interpreter: saving a file failed", "file", name, "error", err)
			problems = append(problems, fmt.Sprintf("%s could not be saved: %v", name, err))
			continue
		}
		if ext == "" {
			ext = "bin"
		}
		chunk, _ := json.Marshal(map[string]string{
			"type": "tool_file", "tool": ToolName, "file_id": id, "file_name": name, "file_type": ext,
		})
		chunks = append(chunks, chunk)
		saved = append(saved, name)
	}
	return chunks, saved, problems
}

// cleanName is a safe file name for a path reported by the sandbox: its
// base name without control characters, at most 200 bytes.
func cleanName(p string) string {
	name := path.Base(strings.ReplaceAll(p, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, name)
	if len(name) > 200 {
		ext := path.Ext(name)
		if len(ext) > 20 {
			ext = ""
		}
		name = strings.ToValidUTF8(name[:200-len(ext)], "") + ext
	}
	if name == "" || name == "." || name == "/" || name == ".." {
		name = "file"
	}
	return name
}

var mimeTypes = map[string]string{
	"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml",
	"webp": "image/webp", "pdf": "application/pdf", "csv": "text/csv", "tsv": "text/tab-separated-values",
	"txt": "text/plain", "md": "text/markdown", "json": "application/json", "jsonl": "application/jsonl",
	"html": "text/html", "xml": "application/xml", "zip": "application/zip",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "parquet": "application/vnd.apache.parquet",
	"py": "text/x-python",
}

// mimeType is the media type for a file extension (without the dot).
func mimeType(ext string) string {
	if t, ok := mimeTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension("." + ext); ext != "" && t != "" {
		return t
	}
	return "application/octet-stream"
}

// clip shortens s to about limit bytes, keeping its start and end.
func clip(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	head := limit / 4
	tail := limit - head
	return strings.ToValidUTF8(s[:head], "") + fmt.Sprintf("\n... [%d bytes omitted] ...\n", len(s)-limit) + strings.ToValidUTF8(s[len(s)-tail:], "")
}
