package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ferryvm/ferry/internal/wat"
)

// wasmMagic starts every binary module.
var wasmMagic = []byte("\x00asm")

// readModule reads a module file, binary or text. A text module (.wat, or
// anything that does not start with the binary magic but with a
// parenthesis or a comment) is assembled by Ferry's own text-format
// reader: users of wasmtime pass .wat files as they pass .wasm ones, and
// "magic header not detected" told them nothing.
func readModule(_ context.Context, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil || bytes.HasPrefix(b, wasmMagic) || !looksLikeText(path, b) {
		return b, err
	}
	out, err := wat.Parse(b)
	if err != nil {
		return nil, &textError{path: path, err: err}
	}
	return out, nil
}

// textError is a text module that does not assemble: the module's fault,
// not the command line's.
type textError struct {
	path string
	err  error
}

func (e *textError) Error() string {
	return fmt.Sprintf("%s:%v (not a valid text-format module)", e.path, e.err)
}

func (e *textError) Unwrap() error { return e.err }

func looksLikeText(path string, b []byte) bool {
	if strings.HasSuffix(path, ".wat") {
		return true
	}
	t := bytes.TrimLeft(b, " \t\r\n")
	return bytes.HasPrefix(t, []byte("(")) || bytes.HasPrefix(t, []byte(";;"))
}

// moduleReadFailure is the exit code for readModule's error: a file that
// cannot be read is a usage error (2), a text module that does not
// assemble fails as a malformed binary does (1).
func moduleReadFailure(err error) int {
	var te *textError
	if errors.As(err, &te) {
		return exitFail
	}
	return exitUsage
}
