package codeexec

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// A session is one conversation's sandbox: a bwrap process running the
// driver (driver.py), a long-lived Python interpreter whose variables and
// work-dir files persist between calls, like a notebook kernel.
type session struct {
	key string

	// mu serialises calls and the start.
	mu       sync.Mutex
	started  bool
	startErr error
	ready    atomic.Bool // set once started successfully (readable without mu)
	seq      int

	cmd    *exec.Cmd
	stdin  *os.File
	lines  chan []byte   // protocol lines from the driver; closed at EOF
	exited chan struct{} // closed when the process has been reaped
	stderr *tailBuffer
	cg     *sessionCgroup
	python string // driver's Python version

	killOnce sync.Once
	dead     chan struct{} // closed by kill
	waitErr  error
	protoErr atomic.Value // string: why readLoop gave up

	// Owned by the pool (pool.mu).
	users     int
	lastUsed  time.Time
	removed   bool
	ephemeral bool // a call without a conversation: closed after it
}

// reply is a driver message.
type reply struct {
	Type    string      `json:"type"`
	ID      int         `json:"id"`
	Python  string      `json:"python"`
	Output  string      `json:"output"`
	Value   *string     `json:"value"`
	Error   *string     `json:"error"`
	Files   []replyFile `json:"files"`
	Skipped []struct {
		Path   string `json:"path"`
		Reason string `json:"reason"`
	} `json:"skipped"`
}

// replyFile is a file the call wrote in the work dir.
type replyFile struct {
	Path string `json:"path"`
	Data []byte `json:"data"` // base64 in JSON
}

// driverLoader runs the driver (passed as argv[1]) under a file name of
// its own.
const driverLoader = `import sys; exec(compile(sys.argv[1], "<tramontane-driver>", "exec"))`

// errLineTooLong is a driver message over the protocol's size bound.
var errLineTooLong = errors.New("the sandbox sent an oversized message")

// maxLine bounds one protocol message: the output, value and error texts
// (JSON-escaped, up to 6 bytes a byte) and the base64 of the files.
func (ix *Interpreter) maxLine() int {
	return 18*ix.cfg.OutputBytes + int(ix.cfg.OutputFilesBytes)*4/3 + 1<<20
}

// start launches the sandbox and waits for the driver's ready message.
func (s *session) start(ctx context.Context, ix *Interpreter, useCgroup bool) error {
	if err := ix.waitFonts(ctx); err != nil {
		return err
	}
	var cg *sessionCgroup
	if useCgroup && ix.cgroup != nil {
		var err error
		cg, err = ix.cgroup.create("tramontane-"+uuid.NewString()[:8], ix.cfg)
		if err != nil {
			ix.log.Warn("code_interpreter: no cgroup for this session; rlimits still apply", "error", err)
			cg = nil
		}
	}
	cfg, _ := json.Marshal(map[string]any{
		"workdir": sandboxHome, "output_bytes": ix.cfg.OutputBytes, "cpu_seconds": ix.cfg.CPUSeconds,
		"max_files": ix.cfg.MaxOutputFiles, "files_bytes": ix.cfg.OutputFilesBytes,
	})
	cmd, cleanup, err := ix.command(ix.limitedArgv("-c", driverLoader, driverSource, string(cfg)), ix.fontFile, cg)
	if err != nil {
		cg.remove()
		return err
	}
	// Plain pipes rather than StdinPipe/StdoutPipe: writes get deadlines
	// (a stopped sandbox must not block the server), and Wait must not
	// close stdout while readLoop still reads.
	stdinR, stdin, err := os.Pipe()
	if err != nil {
		cleanup()
		cg.remove()
		return err
	}
	cmd.Stdin = stdinR
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdin.Close()
		cleanup()
		cg.remove()
		return err
	}
	cmd.Stdout = stdoutW
	s.stderr = &tailBuffer{max: 4096}
	cmd.Stderr = s.stderr
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Start()
	cleanup()
	stdoutW.Close()
	stdinR.Close()
	if err != nil {
		stdout.Close()
		stdin.Close()
	}
	if err != nil && cg != nil {
		// CLONE_INTO_CGROUP can fail on old kernels: go on without.
		ix.log.Warn("code_interpreter: starting in a cgroup failed; rlimits still apply", "error", err)
		cg.remove()
		return s.start(ctx, ix, false)
	}
	if err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	s.cmd, s.stdin, s.cg = cmd, stdin, cg
	s.lines = make(chan []byte, 1)
	s.exited = make(chan struct{})
	s.dead = make(chan struct{})
	go s.readLoop(stdout, ix.maxLine())
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case line, ok := <-s.lines:
		var r reply
		if ok && json.Unmarshal(line, &r) == nil && r.Type == "ready" {
			s.python = r.Python
			return nil
		}
		s.kill()
		return fmt.Errorf("the sandbox did not start%s", s.exitInfo())
	case <-timer.C:
		s.kill()
		return errors.New("the sandbox did not start within 30s")
	case <-ctx.Done():
		s.kill()
		return ctx.Err()
	}
}

// readLoop forwards the driver's lines until EOF, an error or an
// oversized line (which kills the session).
func (s *session) readLoop(f *os.File, max int) {
	defer close(s.lines)
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := readLine(r, max)
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				s.protoErr.Store(err.Error())
				s.kill()
			}
			return
		}
		select {
		case s.lines <- line:
		case <-s.dead:
			return
		}
	}
}

// readLine reads one '\n'-terminated line of at most max bytes.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > max {
			return nil, errLineTooLong
		}
		buf = append(buf, chunk...)
		if err == nil {
			return buf, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// exec runs code in the session. An empty fail means the session is still
// alive; otherwise it has been killed and fail says why (rep may still
// hold the output produced before a timeout).
func (s *session) exec(ctx context.Context, code string, timeout time.Duration) (rep *reply, fail string, err error) {
	s.seq++
	id := s.seq
	msg, _ := json.Marshal(map[string]any{"type": "exec", "id": id, "code": code})
	s.stdin.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := s.stdin.Write(append(msg, '\n')); err != nil {
		s.kill()
		return nil, "the session had stopped" + s.exitInfo(), nil
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.kill()
				if why, _ := s.protoErr.Load().(string); why != "" {
					return nil, why, nil
				}
				return nil, "the Python process died" + s.exitInfo(), nil
			}
			var r reply
			if json.Unmarshal(line, &r) != nil {
				continue
			}
			if r.Type == "result" && r.ID == id {
				return &r, "", nil
			}
		case <-timer.C:
			// Interrupt the cell to get its output and traceback so far,
			// then end the session as the wall-clock limit demands.
			s.stdin.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = s.stdin.Write([]byte(`{"type":"interrupt"}` + "\n"))
			rep := s.await(id, 2*time.Second)
			s.kill()
			return rep, fmt.Sprintf("the call exceeded the %s wall-clock limit", timeout), nil
		case <-ctx.Done():
			s.kill()
			return nil, "", ctx.Err()
		}
	}
}

// await waits up to d for the result of call id.
func (s *session) await(id int, d time.Duration) *reply {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return nil
			}
			var r reply
			if json.Unmarshal(line, &r) == nil && r.Type == "result" && r.ID == id {
				return &r
			}
		case <-t.C:
			return nil
		}
	}
}

// kill ends the sandbox: its process group, and with it (bwrap's
// --die-with-parent and the pid namespace) every process inside; then the
// cgroup. It waits for the process to be reaped.
func (s *session) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.killOnce.Do(func() {
		close(s.dead)
		killGroup(s.cmd.Process.Pid)
		if s.stdin != nil {
			s.stdin.Close()
		}
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
		}
		s.cg.remove()
	})
}

// close ends the session gracefully: closing stdin makes the driver exit;
// whatever remains is killed.
func (s *session) close() {
	if s.cmd == nil {
		return
	}
	s.stdin.Close()
	select {
	case <-s.exited:
	case <-time.After(time.Second):
	}
	s.kill()
}

// alive reports whether the sandbox process is still running.
func (s *session) alive() bool {
	if !s.ready.Load() {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// exitInfo describes how the process ended, for error messages.
func (s *session) exitInfo() string {
	select {
	case <-s.exited:
	case <-time.After(2 * time.Second):
		return ""
	}
	var parts []string
	var ee *exec.ExitError
	if errors.As(s.waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			switch {
			case ws.Signaled():
				parts = append(parts, "killed by "+ws.Signal().String())
			case ws.Exited():
				parts = append(parts, describeExit(ws.ExitStatus()))
			}
		}
	}
	if tail := strings.TrimSpace(s.stderr.String()); tail != "" {
		parts = append(parts, tail)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
