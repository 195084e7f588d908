//go:build amd64 && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package native

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestHandAssemblyMatchesLLVM disassembles the tests' hand-written bytes
// with llvm-mc (Debian package llvm) and compares them with the assembly
// written next to them, so a wrong byte cannot hide behind a test that
// happens to pass.
func TestHandAssemblyMatchesLLVM(t *testing.T) {
	mc, err := exec.LookPath("llvm-mc")
	if err != nil {
		t.Skip("llvm-mc not installed")
	}
	want := []string{
		"mov rax, qword ptr [r12]",
		"dec rax",
		"je 65",
		"sub qword ptr [rbx + 16], 1",
		"js 5",
		"jmp -25",
		"mov qword ptr [r12], rax",
		"mov dword ptr [rbx + 24], 6",
		"mov dword ptr [rbx + 28], 0",
		"lea rax, [rip + 13]",
		"mov qword ptr [rbx + 32], rax",
		"mov rsp, qword ptr [rbx + 40]",
		"mov rbp, qword ptr [rbx + 48]",
		"ret",
		"mov rax, qword ptr [r12]",
		"jmp -74",
		"mov qword ptr [r12], rax",
		"mov dword ptr [rbx + 24], 1",
		"mov dword ptr [rbx + 28], 0",
		"mov rsp, qword ptr [rbx + 40]",
		"mov rbp, qword ptr [rbx + 48]",
		"ret",
	}
	var in strings.Builder
	for _, b := range countdownProg().bytes() {
		fmt.Fprintf(&in, "0x%02x ", b)
	}
	cmd := exec.Command(mc, "--triple=x86_64", "--disassemble", "--output-asm-variant=1")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("llvm-mc: %v\n%s", err, out)
	}
	var got []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l != "" && !strings.HasPrefix(l, ".") {
			got = append(got, l)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("llvm-mc reads the countdown program as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
