//go:build linux && (amd64 || arm64)

package codeexec

import (
	"encoding/binary"
	"testing"
)

func TestSeccompProgramShape(t *testing.T) {
	prog, err := seccompProgram()
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) == 0 || len(prog)%8 != 0 {
		t.Fatalf("program of %d bytes", len(prog))
	}
	// It starts by checking the architecture and ends with the two
	// refusal returns.
	if code, k := binary.LittleEndian.Uint16(prog), binary.LittleEndian.Uint32(prog[4:]); code != bpfLdAbs || k != offArch {
		t.Fatalf("first instruction %#x %#x", code, k)
	}
	last := prog[len(prog)-8:]
	if binary.LittleEndian.Uint16(last) != bpfRet || binary.LittleEndian.Uint32(last[4:])&0xffff0000 != retErrno {
		t.Fatalf("last instruction % x", last)
	}
}

func TestAssembleRejectsBadJumps(t *testing.T) {
	if _, err := assemble([]insn{{code: bpfJeq, jt: "nowhere"}}); err == nil {
		t.Fatal("unknown label accepted")
	}
	if _, err := assemble([]insn{{code: bpfRet, label: "back"}, {code: bpfJeq, jt: "back"}}); err == nil {
		t.Fatal("backward jump accepted")
	}
}
