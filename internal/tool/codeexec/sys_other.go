//go:build !linux

package codeexec

import (
	"errors"
	"fmt"
	"os/exec"
)

// The sandbox needs Linux namespaces (bubblewrap); elsewhere the connector
// reports itself unavailable.

func platformError() error { return errors.New("the sandbox needs Linux (bubblewrap)") }

func configure(cmd *exec.Cmd, uid, gid int, cg *sessionCgroup) {}

func killGroup(pid int) {}

func seccompProgram() ([]byte, error) { return nil, nil }

type cgroupParent struct{ dir string }

type sessionCgroup struct{}

func detectCgroup(string) (*cgroupParent, string) { return nil, "not on Linux" }

func (p *cgroupParent) create(string, Config) (*sessionCgroup, error) { return nil, nil }

func (cg *sessionCgroup) remove() {}

func describeExit(code int) string { return fmt.Sprintf("exit status %d", code) }
