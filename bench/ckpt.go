package bench

import "embed"

// The guests of cmd/ckptbench (issue 5), built by ckpt/build.sh:
// ckpt/touch.wasm (from touch.wat, wat2wasm) touches a chosen amount of
// memory; ckpt/bootapp.wasm (from bootapp.c, clang + wasi-libc) boots for a
// couple of seconds, then serves requests on stdin.
//
//go:embed ckpt/*.wasm
var ckptFS embed.FS

// TouchWasm returns ckpt/touch.wasm: touch(pages, dense) -> pages grows
// memory to pages 64 KiB pages and writes every 4 KiB page of it (one
// non-zero byte, or every byte when dense != 0); probe(addr) -> the byte
// at addr (TouchByte says which).
func TouchWasm() []byte { return mustRead(ckptFS, "ckpt/touch.wasm") }

// TouchByte is the byte touch leaves at addr.
func TouchByte(addr uint32, dense bool) uint32 {
	if dense {
		word := addr &^ 7
		v := uint64(word+1) * 0x9e3779b97f4a7c15
		return uint32(byte(v >> (8 * (addr & 7))))
	}
	if addr%4096 != 0 {
		return 0
	}
	return (addr>>12)%255 + 1
}

// BootAppWasm returns ckpt/bootapp.wasm, a WASI command (see bootapp.c).
func BootAppWasm() []byte { return mustRead(ckptFS, "ckpt/bootapp.wasm") }

func mustRead(fs embed.FS, name string) []byte {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return b
}
