package binary

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/spectest"
	"github.com/ferryvm/ferry/internal/wasm"
)

type specCommand struct {
	Type       string `json:"type"`
	Line       int    `json:"line"`
	Filename   string `json:"filename"`
	ModuleType string `json:"module_type"`
	Text       string `json:"text"`
}

// instrLevel lists the assert_malformed texts that the decoder may let pass
// because only decoding the instructions of a function body reveals them
// (the validator does that), or because they are validation rules.
var instrLevel = map[string]bool{
	"data count section required": true,
}

// knownDivergences are malformed modules that Decode rejects with another
// message than the suite's, because the reference interpreter reads a
// function body past its declared size and reports what it stumbles on.
var knownDivergences = map[string]string{
	"binary:439":  "function without its final end at the end of the file",
	"binary:455":  "function without its final end before the data section",
	"binary:1632": "export count overruns the section; the reference reads the next section's id as a name length",
}

// TestSpecBinaryModules decodes every binary module of the spec suite: the
// well-formed ones must decode, the malformed ones must fail here with the
// suite's message, or fail in the instruction decoder the validator uses.
func TestSpecBinaryModules(t *testing.T) {
	var decoded, rejected, instrCaught int
	for _, wast := range spectest.WastFiles(t) {
		jsonPath := spectest.Convert(t, wast)
		raw, err := os.ReadFile(jsonPath)
		if err != nil {
			t.Fatal(err)
		}
		var script struct{ Commands []specCommand }
		if err := json.Unmarshal(raw, &script); err != nil {
			t.Fatalf("%s: %v", jsonPath, err)
		}
		base := strings.TrimSuffix(filepath.Base(wast), ".wast")
		for _, c := range script.Commands {
			if !strings.HasSuffix(c.Filename, ".wasm") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(filepath.Dir(jsonPath), c.Filename))
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s:%d", base, c.Line)
			m, err := Decode(b)
			if c.Type != "assert_malformed" {
				if err != nil {
					t.Errorf("%s (%s): %v", name, c.Type, err)
				} else {
					decoded++
				}
				continue
			}
			if err != nil {
				rejected++
				var de *Error
				if !errors.As(err, &de) {
					t.Errorf("%s: error %T is not *binary.Error: %v", name, err, err)
				} else if !strings.HasPrefix(de.Err.Error(), c.Text) && knownDivergences[name] == "" {
					t.Errorf("%s: got %q, want %q", name, de.Err, c.Text)
				}
				continue
			}
			if instrErr := decodeBodies(m); instrErr != nil {
				instrCaught++
				if !strings.HasPrefix(instrErr.Error(), c.Text) {
					t.Logf("%s: instruction decoder says %q, suite says %q", name, instrErr, c.Text)
				}
				continue
			}
			if !instrLevel[c.Text] {
				t.Errorf("%s: decoded a module the suite calls malformed (%q)", name, c.Text)
			}
		}
	}
	t.Logf("%d modules decoded, %d malformed modules rejected by Decode, %d left to the instruction decoder",
		decoded, rejected, instrCaught)
	if decoded == 0 || rejected == 0 {
		t.Fatal("no spec modules exercised")
	}
}

// decodeBodies runs the instruction decoder over every function body, as the
// validator will; it returns the cause of the first failure.
func decodeBodies(m *wasm.Module) error {
	var in wasm.Instr
	r := wasm.NewInstrReader(nil)
	for i := range m.Funcs {
		r.Reset(m.Funcs[i].Body)
		depth := 0 // open blocks; the function's own block is depth 0
		for !r.Done() {
			if depth < 0 {
				return ErrEndExpected // code after the function's end
			}
			if err := r.Next(&in); err != nil {
				return errors.Unwrap(err)
			}
			switch in.Op {
			case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
				depth++
			case wasm.OpEnd:
				depth--
			}
		}
		if depth >= 0 {
			return wasm.ErrUnexpectedEnd // the final end closed an inner block
		}
	}
	return nil
}
