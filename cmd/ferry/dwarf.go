package main

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// sourceLines maps a module's code offsets to source file:line with the
// DWARF a compiler left in its custom sections (clang -g: .debug_info,
// .debug_line, ...). In WebAssembly DWARF an address is an offset from the
// start of the code section's contents.
type sourceLines struct {
	d         *dwarf.Data
	codeStart uint64
}

// newSourceLines reads the DWARF of a binary module; nil when it has none
// or it cannot be read (a trace without lines is still a trace).
func newSourceLines(wasm []byte) *sourceLines {
	m, err := binary.Decode(wasm)
	if err != nil || m.CodeStart == 0 {
		return nil
	}
	secs := map[string][]byte{}
	for _, c := range m.Customs {
		if name, ok := strings.CutPrefix(c.Name, ".debug_"); ok {
			secs[name] = c.Data
		}
	}
	if secs["info"] == nil || secs["line"] == nil {
		return nil
	}
	d, err := dwarf.New(secs["abbrev"], secs["aranges"], secs["frame"], secs["info"], secs["line"], secs["pubnames"], secs["ranges"], secs["str"])
	if err != nil {
		return nil
	}
	for _, name := range []string{"addr", "line_str", "str_offsets", "rnglists"} {
		if b := secs[name]; b != nil {
			if d.AddSection(".debug_"+name, b) != nil {
				return nil
			}
		}
	}
	return &sourceLines{d: d, codeStart: uint64(m.CodeStart)}
}

// at returns "FILE:LINE" for the instruction at fileOffset in the module.
func (s *sourceLines) at(fileOffset uint64) (string, bool) {
	if fileOffset < s.codeStart {
		return "", false
	}
	pc := fileOffset - s.codeStart
	r := s.d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			return "", false
		}
		if e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		lr, err := s.d.LineReader(e)
		r.SkipChildren()
		if err != nil || lr == nil {
			continue
		}
		var le dwarf.LineEntry
		if lr.SeekPC(pc, &le) == nil && le.File != nil && le.Line > 0 {
			return le.File.Name + ":" + strconv.Itoa(le.Line), true
		}
	}
}

var frameOffset = regexp.MustCompile(`(?m)@0x([0-9a-f]+)$`)

// sourcedTrap is a trap whose trace names source lines.
type sourcedTrap struct {
	trap *api.TrapError
	text string
}

func (e *sourcedTrap) Error() string { return e.text }
func (e *sourcedTrap) Unwrap() error { return e.trap }

// withSourceLines adds "at FILE:LINE" to the frames of a trap's trace when
// the module carries DWARF; other errors pass as they are.
func withSourceLines(err error, wasm []byte) (out error) {
	var trap *api.TrapError
	if !errors.As(err, &trap) {
		return err
	}
	// The DWARF is the module author's: should the reader trip over it,
	// the trace goes out without lines rather than not at all.
	defer func() {
		if recover() != nil {
			out = err
		}
	}()
	s := newSourceLines(wasm)
	if s == nil {
		return err
	}
	text := frameOffset.ReplaceAllStringFunc(err.Error(), func(m string) string {
		off, perr := strconv.ParseUint(m[len("@0x"):], 16, 64)
		if perr != nil {
			return m
		}
		if where, ok := s.at(off); ok {
			return fmt.Sprintf("%s at %s", m, where)
		}
		return m
	})
	return &sourcedTrap{trap: trap, text: text}
}

// withRestoredSourceLines is withSourceLines for a restored run. Its module
// is the one --module gave, or else the copy the checkpoint carries, read
// again from the file only when there is a trap to annotate: a restore
// that ends well never pays for it.
func withRestoredSourceLines(err error, module []byte, ckptPath string) error {
	var trap *api.TrapError
	if !errors.As(err, &trap) {
		return err
	}
	if module == nil {
		module = checkpointModule(ckptPath)
	}
	if module == nil {
		return err
	}
	return withSourceLines(err, module)
}

// checkpointModule reads the module bytes a checkpoint file carries, nil
// when it has none or cannot be read.
func checkpointModule(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	sf, err := snapshot.Read(f, st.Size())
	if err != nil {
		return nil
	}
	return sf.Snapshot.Module
}
