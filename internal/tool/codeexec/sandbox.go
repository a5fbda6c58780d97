package codeexec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The sandbox's file system, as bubblewrap builds it:
//
//	/usr, /etc/alternatives, /etc/ld.so.cache, ...   read-only binds of the host's
//	/bin, /lib, /lib64, /sbin                        symlinks into /usr (or read-only binds)
//	/etc/passwd, /etc/group                          a single "sandbox" user (uid 1000)
//	/proc                                            the sandbox's own pid namespace only
//	/dev                                             null, zero, random, urandom, tty... (read-only)
//	/dev/shm                                         16 MiB tmpfs
//	/sandbox                                            tmpfs of workdir_bytes: HOME and cwd
//	/sandbox/.tmp (= /tmp)                              temporary files, on the same tmpfs
//	/sandbox/.config/matplotlib                         MPLCONFIGDIR with the prebuilt font list
//	/                                                read-only tmpfs; nothing else
//
// No host directory other than those system paths is visible: not /root,
// /home, /tmp, /var, nor the server's data dir.
const (
	sandboxUID  = 1000
	sandboxHome = "/sandbox"
	mplDir      = "/sandbox/.config/matplotlib"
	shmBytes    = 16 << 20
)

// etcFiles are the host files under /etc the sandbox sees (read-only) when
// they exist: shared-library lookup, BLAS/LAPACK alternatives for numpy,
// the time zone, fonts and matplotlib's Debian config.
var etcFiles = []string{
	"/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/localtime", "/etc/fonts", "/etc/matplotlibrc", "/etc/mime.types",
}

// topLevel are the root directories that merged-/usr systems make symlinks.
var topLevel = []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// sandboxEnv is the whole environment of sandboxed code: nothing of the
// server's environment reaches it.
func sandboxEnv() []string {
	return []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + sandboxHome,
		"USER=sandbox",
		"LOGNAME=sandbox",
		"LANG=C.UTF-8",
		"TMPDIR=/tmp",
		"MPLBACKEND=Agg",
		"MPLCONFIGDIR=" + mplDir,
		"XDG_CACHE_HOME=/sandbox/.cache",
		"PYTHONDONTWRITEBYTECODE=1",
		"OPENBLAS_NUM_THREADS=1",
		"OMP_NUM_THREADS=1",
		"MKL_NUM_THREADS=1",
	}
}

// bwrapArgs is the bubblewrap command line that runs argv in a fresh
// sandbox. seccompFD is the descriptor of the filter (-1: none); fontFile
// is the prebuilt matplotlib font list to bind ("" for none).
func (ix *Interpreter) bwrapArgs(seccompFD int, fontFile string, argv []string) []string {
	c := ix.cfg
	a := []string{
		"--unshare-all", "--unshare-user", "--disable-userns",
		"--die-with-parent", "--new-session",
		"--uid", strconv.Itoa(sandboxUID), "--gid", strconv.Itoa(sandboxUID),
		"--hostname", "sandbox",
		"--ro-bind", "/usr", "/usr",
	}
	for _, d := range topLevel {
		fi, err := os.Lstat(d)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			if target, err := os.Readlink(d); err == nil {
				a = append(a, "--symlink", target, d)
			}
		case fi.IsDir():
			a = append(a, "--ro-bind", d, d)
		}
	}
	for _, f := range etcFiles {
		if _, err := os.Stat(f); err == nil {
			a = append(a, "--ro-bind", f, f)
		}
	}
	a = append(a,
		"--ro-bind", filepath.Join(ix.cacheDir, "passwd"), "/etc/passwd",
		"--ro-bind", filepath.Join(ix.cacheDir, "group"), "/etc/group",
		"--proc", "/proc",
		"--dev", "/dev",
		"--size", strconv.Itoa(shmBytes), "--perms", "1777", "--tmpfs", "/dev/shm",
		"--remount-ro", "/dev",
		"--size", strconv.FormatInt(c.WorkdirBytes, 10), "--perms", "0755", "--tmpfs", sandboxHome,
		"--dir", "/sandbox/.tmp",
		"--symlink", "/sandbox/.tmp", "/tmp",
		"--dir", "/sandbox/.config", "--dir", mplDir,
	)
	if fontFile != "" {
		a = append(a, "--ro-bind", filepath.Join(ix.cacheDir, "matplotlib", fontFile), mplDir+"/"+fontFile)
	}
	a = append(a, "--remount-ro", "/", "--chdir", sandboxHome, "--clearenv")
	for _, kv := range sandboxEnv() {
		k, v, _ := strings.Cut(kv, "=")
		a = append(a, "--setenv", k, v)
	}
	if seccompFD >= 0 {
		a = append(a, "--seccomp", strconv.Itoa(seccompFD))
	}
	a = append(a, "--")
	return append(a, argv...)
}

// limitedArgv wraps a Python command line in prlimit, which applies the
// rlimits inside the sandbox (after bwrap made its user namespace, so that
// RLIMIT_NPROC counts this sandbox's tasks only).
func (ix *Interpreter) limitedArgv(python ...string) []string {
	c := ix.cfg
	return append([]string{
		c.Prlimit,
		"--as=" + strconv.FormatInt(c.MemoryBytes, 10),
		fmt.Sprintf("--cpu=%d:%d", c.SessionCPUSeconds, c.SessionCPUSeconds),
		"--nproc=" + strconv.Itoa(c.MaxProcesses),
		"--fsize=" + strconv.FormatInt(c.MaxFileBytes, 10),
		"--nofile=" + strconv.Itoa(c.MaxOpenFiles),
		"--core=0",
		"--",
		c.Python, "-I", "-B",
	}, python...)
}

// command prepares (but does not start) a sandboxed command. The returned
// cleanup closes descriptors that belong to the start; call it after Start.
func (ix *Interpreter) command(argv []string, fontFile string, cg *sessionCgroup) (*exec.Cmd, func(), error) {
	seccompFD := -1
	var extra []*os.File
	if len(ix.seccomp) > 0 {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, nil, err
		}
		_, err = w.Write(ix.seccomp)
		w.Close()
		if err != nil {
			r.Close()
			return nil, nil, err
		}
		extra = append(extra, r)
		seccompFD = 3
	}
	cmd := exec.Command(ix.cfg.BwrapPath, ix.bwrapArgs(seccompFD, fontFile, argv)...)
	// bwrap's own environment: never the server's (it would be readable
	// in /proc/1/environ inside the sandbox).
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	cmd.ExtraFiles = extra
	configure(cmd, *ix.cfg.UID, *ix.cfg.GID, cg)
	cleanup := func() {
		for _, f := range extra {
			f.Close()
		}
	}
	return cmd, cleanup, nil
}

// runOnce runs a short sandboxed Python program and returns its stdout.
func (ix *Interpreter) runOnce(ctx context.Context, fontFile, program string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd, cleanup, err := ix.command(ix.limitedArgv("-c", program), fontFile, nil)
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limitWriter{w: &stdout, n: 8 << 20}, &limitWriter{w: &stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		cleanup()
		return nil, err
	}
	cleanup()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		killGroup(cmd.Process.Pid)
		<-done
		err = ctx.Err()
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s", err, msg)
	}
	return stdout.Bytes(), nil
}

// checkPaths reports missing binaries before any sandbox is tried.
func (ix *Interpreter) checkPaths() error {
	c := ix.cfg
	if err := platformError(); err != nil {
		return err
	}
	for _, p := range []struct{ what, path string }{{"bubblewrap", c.BwrapPath}, {"python", c.Python}, {"prlimit", c.Prlimit}} {
		fi, err := os.Stat(p.path)
		if err != nil {
			return fmt.Errorf("%s not found at %s (install the bubblewrap, python3 and util-linux packages)", p.what, p.path)
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("%s at %s is not executable", p.what, p.path)
		}
	}
	for _, p := range []string{c.Python, c.Prlimit} {
		if !strings.HasPrefix(filepath.Clean(p), "/usr/") {
			return fmt.Errorf("%s must be under /usr (only /usr is visible in the sandbox)", p)
		}
	}
	return nil
}

// probe runs a trivial sandbox with the full configuration and checks that
// it works: user namespaces, binds, seccomp, rlimits and Python.
func (ix *Interpreter) probe(ctx context.Context) error {
	out, err := ix.runOnce(ctx, "", `import os, sys; print("ok", os.getuid(), sys.version.split()[0])`)
	if err != nil {
		return fmt.Errorf("a test sandbox failed (are unprivileged user namespaces enabled? kernel.unprivileged_userns_clone=1, user.max_user_namespaces>0): %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 3 || f[0] != "ok" || f[1] != strconv.Itoa(sandboxUID) {
		return fmt.Errorf("a test sandbox answered %q", strings.TrimSpace(string(out)))
	}
	ix.pythonVersion = f[2]
	return nil
}

var fontListName = regexp.MustCompile(`^fontlist-v[0-9]+\.json$`)

// buildFontCache builds matplotlib's font list once, in a setup sandbox
// with a writable tmpfs, and stores it in the cache dir; later sandboxes
// bind it read-only so that their first plot does not rescan the fonts.
func (ix *Interpreter) buildFontCache(ctx context.Context) (string, error) {
	out, err := ix.runOnce(ctx, "", `
import glob, json, os
import matplotlib.font_manager
d = os.environ["MPLCONFIGDIR"]
print(json.dumps({os.path.basename(p): open(p).read() for p in glob.glob(os.path.join(d, "fontlist-*.json"))}))
`)
	if err != nil {
		return "", err
	}
	var files map[string]string
	if err := json.Unmarshal(out, &files); err != nil {
		return "", fmt.Errorf("font cache: %w", err)
	}
	for name, content := range files {
		if !fontListName.MatchString(name) || len(content) > 4<<20 {
			continue
		}
		dir := filepath.Join(ix.cacheDir, "matplotlib")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return "", err
		}
		return name, nil
	}
	return "", errors.New("matplotlib wrote no font list")
}

// makeCacheDir creates the host directory with the files bound read-only
// into every sandbox: passwd, group and the font list. It must be
// readable by the sandbox uid, and holds nothing secret.
func makeCacheDir() (string, error) {
	dir, err := os.MkdirTemp("", "tramontane-codeexec-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	files := map[string]string{
		"passwd": fmt.Sprintf("sandbox:x:%d:%d:sandbox:%s:/usr/sbin/nologin\n", sandboxUID, sandboxUID, sandboxHome),
		"group":  fmt.Sprintf("sandbox:x:%d:\n", sandboxUID),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// limitWriter keeps the first n bytes written and discards the rest.
type limitWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
