//go:build linux && !amd64 && !arm64

package codeexec

// seccompProgram: there is no filter for this architecture; the sandbox
// relies on its namespaces, --disable-userns and rlimits alone.
func seccompProgram() ([]byte, error) { return nil, nil }
