package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// wasmMagic starts every binary module.
var wasmMagic = []byte("\x00asm")

// readModule reads a module file, binary or text. A text module (.wat, or
// anything that does not start with the binary magic but with a
// parenthesis or a comment) is assembled with wabt's wat2wasm, as "ferry
// wast" converts scripts with wast2json: users of wasmtime pass .wat files
// as they pass .wasm ones, and "magic header not detected" told them
// nothing. Ferry keeps no text parser of its own.
func readModule(ctx context.Context, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil || bytes.HasPrefix(b, wasmMagic) || !looksLikeText(path, b) {
		return b, err
	}
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		return nil, fmt.Errorf("%s is a text-format module: install wabt (Debian package wabt) for wat2wasm, or pass the .wasm it writes", path)
	}
	var out, msg bytes.Buffer
	cmd := exec.CommandContext(ctx, tool, "--enable-all", path, "--output=-")
	cmd.Stdout, cmd.Stderr = &out, &msg
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &textError{path: path, msg: strings.TrimSpace(msg.String()), err: err}
	}
	return out.Bytes(), nil
}

// textError is a text module wat2wasm refused: the module's fault, not the
// command line's.
type textError struct {
	path, msg string
	err       error
}

func (e *textError) Error() string {
	return fmt.Sprintf("%s: not a valid text-format module (wat2wasm: %v):\n%s", e.path, e.err, e.msg)
}

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
