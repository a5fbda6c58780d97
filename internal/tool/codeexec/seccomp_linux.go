//go:build linux && (amd64 || arm64)

package codeexec

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// The sandbox's seccomp filter: a classic-BPF program handed to bwrap
// (--seccomp FD) and applied to everything the sandbox runs. It is defence
// in depth on top of the namespaces: the calls it refuses (with EPERM) are
// ones ordinary Python, numpy, pandas and matplotlib never need, and that
// have a history of kernel exploits or could reach past the namespaces:
// mounting, new namespaces, ptrace, kernel keyrings, BPF, perf, io_uring,
// userfaultfd, modules, clocks and reboot. clone3 answers ENOSYS, so glibc
// falls back to clone, whose flags (unlike clone3's) the filter can read; a
// clone asking for a new namespace is refused. System calls of another ABI
// (i386 or x32 on amd64) kill the process.

// deniedSyscalls are refused with EPERM on every supported architecture.
var deniedSyscalls = []uint32{
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_CHROOT,
	unix.SYS_UNSHARE, unix.SYS_SETNS,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV, unix.SYS_PIDFD_GETFD,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_REBOOT, unix.SYS_ACCT,
	unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME, unix.SYS_CLOCK_ADJTIME, unix.SYS_ADJTIMEX,
	unix.SYS_SYSLOG, unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_NAME_TO_HANDLE_AT,
	unix.SYS_QUOTACTL, unix.SYS_LOOKUP_DCOOKIE, unix.SYS_VHANGUP,
	unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT, unix.SYS_FSPICK,
	unix.SYS_OPEN_TREE, unix.SYS_MOVE_MOUNT, unix.SYS_MOUNT_SETATTR,
}

// nsCloneFlags are the clone flags that create namespaces.
const nsCloneFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// Classic BPF opcodes and seccomp return values.
const (
	bpfLdAbs   = 0x20 // BPF_LD | BPF_W | BPF_ABS
	bpfJeq     = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	bpfJge     = 0x35 // BPF_JMP | BPF_JGE | BPF_K
	bpfJset    = 0x45 // BPF_JMP | BPF_JSET | BPF_K
	bpfRet     = 0x06 // BPF_RET | BPF_K
	retAllow   = 0x7fff0000
	retErrno   = 0x00050000
	retKillPro = 0x80000000

	offNr   = 0
	offArch = 4
	offArg0 = 16 // low 32 bits of args[0] on little-endian machines
)

// insn is one BPF instruction; jt and jf name labels (or "" for the next
// instruction) and are resolved by assemble.
type insn struct {
	code   uint16
	k      uint32
	jt, jf string
	label  string
}

// seccompProgram returns the filter for this architecture.
func seccompProgram() ([]byte, error) {
	prog := []insn{
		{code: bpfLdAbs, k: offArch},
		{code: bpfJeq, k: seccompArch, jt: "native"},
		{code: bpfRet, k: retKillPro},
		{code: bpfLdAbs, k: offNr, label: "native"},
	}
	if seccompX32Bit != 0 {
		prog = append(prog, insn{code: bpfJge, k: seccompX32Bit, jt: "deny"})
	}
	for _, nr := range append(append([]uint32{}, deniedSyscalls...), archDeniedSyscalls...) {
		prog = append(prog, insn{code: bpfJeq, k: nr, jt: "deny"})
	}
	prog = append(prog,
		insn{code: bpfJeq, k: unix.SYS_CLONE3, jt: "enosys"},
		insn{code: bpfJeq, k: unix.SYS_CLONE, jt: "clone"},
		insn{code: bpfRet, k: retAllow},
		insn{code: bpfLdAbs, k: offArg0, label: "clone"},
		insn{code: bpfJset, k: nsCloneFlags, jt: "deny"},
		insn{code: bpfRet, k: retAllow},
		insn{code: bpfRet, k: retErrno | uint32(unix.EPERM), label: "deny"},
		insn{code: bpfRet, k: retErrno | uint32(unix.ENOSYS), label: "enosys"},
	)
	return assemble(prog)
}

// assemble resolves labels into forward jump offsets and encodes the
// program as struct sock_filter records in native (little-endian) order.
func assemble(prog []insn) ([]byte, error) {
	at := map[string]int{}
	for i, in := range prog {
		if in.label != "" {
			at[in.label] = i
		}
	}
	jump := func(i int, label string) (uint8, error) {
		if label == "" {
			return 0, nil
		}
		t, ok := at[label]
		if !ok || t <= i || t-i-1 > 255 {
			return 0, fmt.Errorf("seccomp: bad jump from %d to %q", i, label)
		}
		return uint8(t - i - 1), nil
	}
	out := make([]byte, 0, 8*len(prog))
	for i, in := range prog {
		jt, err := jump(i, in.jt)
		if err != nil {
			return nil, err
		}
		jf, err := jump(i, in.jf)
		if err != nil {
			return nil, err
		}
		out = binary.LittleEndian.AppendUint16(out, in.code)
		out = append(out, jt, jf)
		out = binary.LittleEndian.AppendUint32(out, in.k)
	}
	return out, nil
}
