//go:build !amd64 && !arm64

package builtins

import (
	"github.com/ferryvm/ferry/internal/v128"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Other architectures run the portable implementations only.
var (
	archFill    []Impl[FillFunc]
	archCopy    []Impl[CopyFunc]
	archIsZero  []Impl[IsZeroFunc]
	archCRC32C  []Impl[CRC32CFunc]
	archUnary   map[wasm.Opcode][]Impl[v128.UnaryFunc]
	archBinary  map[wasm.Opcode][]Impl[v128.BinaryFunc]
	archTernary map[wasm.Opcode][]Impl[v128.TernaryFunc]
	archTest    map[wasm.Opcode][]Impl[v128.TestFunc]
)
