//go:build linux && arm64

package codeexec

const (
	seccompArch   = 0xc00000b7 // AUDIT_ARCH_AARCH64
	seccompX32Bit = 0
)

var archDeniedSyscalls []uint32
