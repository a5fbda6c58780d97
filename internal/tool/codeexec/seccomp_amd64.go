//go:build linux && amd64

package codeexec

import "golang.org/x/sys/unix"

const (
	seccompArch   = 0xc000003e // AUDIT_ARCH_X86_64
	seccompX32Bit = 0x40000000 // __X32_SYSCALL_BIT: x32 ABI calls are refused
)

var archDeniedSyscalls = []uint32{unix.SYS_IOPL, unix.SYS_IOPERM, unix.SYS_USELIB, unix.SYS__SYSCTL}
