//go:build linux

package codeexec

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// platformError is nil where the sandbox can work.
func platformError() error { return nil }

// configure sets how the sandbox's outer bwrap process is started: in its
// own process group (so a timeout can kill the group), killed if the
// server dies, as the unprivileged uid/gid when the server is root, and
// inside its cgroup when there is one.
func configure(cmd *exec.Cmd, uid, gid int, cg *sessionCgroup) {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() == 0 {
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	if cg != nil && cg.fd != nil {
		attr.UseCgroupFD = true
		attr.CgroupFD = int(cg.fd.Fd())
	}
	cmd.SysProcAttr = attr
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// describeExit explains bwrap's exit status, which is the sandboxed
// command's (128+n when it died of signal n).
func describeExit(code int) string {
	switch code {
	case 128 + int(syscall.SIGKILL):
		return "killed (SIGKILL): a resource limit (CPU time, memory or processes) was probably exceeded"
	case 128 + int(syscall.SIGXCPU):
		return "killed: the session's CPU time limit was exceeded"
	case 128 + int(syscall.SIGSEGV):
		return "crashed (SIGSEGV)"
	case 128 + int(syscall.SIGABRT):
		return "aborted (SIGABRT)"
	}
	if code > 128 && code < 160 {
		return "killed by " + syscall.Signal(code-128).String()
	}
	return fmt.Sprintf("exit status %d", code)
}
