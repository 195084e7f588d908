//go:build amd64 && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package native

import (
	"encoding/binary"
	"fmt"
)

// prog writes hand-assembled amd64 machine code for the tests. Every
// instruction is written as its bytes; prog only patches rel32 branch
// displacements to labels. The encodings were checked by disassembling
// the programs the tests build with
//
//	objdump -D -b binary -m i386:x86-64 prog.bin
//	llvm-mc --triple=x86_64 --disassemble  (Debian llvm 14)
//
// and the expected assembly is written next to each byte sequence.
type prog struct {
	b      []byte
	labels map[string]int
	fixups []fixup
}

type fixup struct {
	at    int // offset of the rel32 field
	label string
}

func newProg() *prog { return &prog{labels: map[string]int{}} }

func (p *prog) raw(bs ...byte) *prog { p.b = append(p.b, bs...); return p }

func (p *prog) label(name string) *prog { p.labels[name] = len(p.b); return p }

// rel32 writes op followed by a 32-bit displacement to label, relative to
// the end of the instruction (as jmp, jcc and RIP-relative lea count it).
func (p *prog) rel32(label string, op ...byte) *prog {
	p.b = append(p.b, op...)
	p.fixups = append(p.fixups, fixup{at: len(p.b), label: label})
	p.b = append(p.b, 0, 0, 0, 0)
	return p
}

func (p *prog) imm32(v uint32) *prog { p.b = binary.LittleEndian.AppendUint32(p.b, v); return p }

func (p *prog) bytes() []byte {
	for _, f := range p.fixups {
		to, ok := p.labels[f.label]
		if !ok {
			panic(fmt.Sprintf("undefined label %q", f.label))
		}
		binary.LittleEndian.PutUint32(p.b[f.at:], uint32(int32(to-(f.at+4))))
	}
	return p.b
}

// Forms used by the tests (RBX = context block, R12 = value stack).

// setExit: mov dword [rbx+OffExit], kind ; mov dword [rbx+OffExitArg], arg
func (p *prog) setExit(k ExitKind, arg uint32) *prog {
	p.raw(0xC7, 0x43, OffExit).imm32(uint32(k))
	return p.raw(0xC7, 0x43, OffExitArg).imm32(arg)
}

// setResume: lea rax, [rip+label] ; mov [rbx+OffResume], rax
func (p *prog) setResume(label string) *prog {
	p.rel32(label, 0x48, 0x8D, 0x05)
	return p.raw(0x48, 0x89, 0x43, OffResume)
}

// leave: mov rsp, [rbx+OffEntrySP] ; mov rbp, [rbx+OffEntryBP] ; ret
func (p *prog) leave() *prog {
	return p.raw(0x48, 0x8B, 0x63, OffEntrySP, 0x48, 0x8B, 0x6B, OffEntryBP, 0xC3)
}

// exit takes an exit that does not continue.
func (p *prog) exit(k ExitKind, arg uint32) *prog { return p.setExit(k, arg).leave() }

// exitTo takes an exit that continues at label.
func (p *prog) exitTo(k ExitKind, arg uint32, label string) *prog {
	return p.setExit(k, arg).setResume(label).leave()
}

// Register numbers in ModRM.reg for the loads and stores below.
const (
	rax = 0
	rcx = 1
	rdx = 2
)

// load: mov reg, [r12+disp8]   (REX.W+B 8B /r, SIB base=r12)
func (p *prog) load(reg byte, slot int) *prog {
	return p.raw(0x49, 0x8B, 0x44|reg<<3, 0x24, byte(slot*8))
}

// store: mov [r12+disp8], reg  (REX.W+B 89 /r)
func (p *prog) store(slot int, reg byte) *prog {
	return p.raw(0x49, 0x89, 0x44|reg<<3, 0x24, byte(slot*8))
}

// poll: sub qword [rbx+OffBudget], 1 ; js label
func (p *prog) poll(label string) *prog {
	p.raw(0x48, 0x83, 0x6B, OffBudget, 0x01)
	return p.rel32(label, 0x0F, 0x88)
}
