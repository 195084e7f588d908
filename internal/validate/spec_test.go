package validate_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/binary"
	"github.com/ferryvm/ferry/internal/spectest"
	"github.com/ferryvm/ferry/internal/validate"
)

type specCommand struct {
	Type       string `json:"type"`
	Line       int    `json:"line"`
	Filename   string `json:"filename"`
	Text       string `json:"text"`
	ModuleType string `json:"module_type"`
}

// knownWording lists spec assertions whose expected text this validator
// words differently, keyed by "script:line". Each is still required to be
// rejected as invalid.
var knownWording = map[string]string{
	// `select (result)` with no type: wast2json encodes it as the untyped
	// select 0x1B, so the binary holds a select with missing operands.
	"select:324": "type mismatch",
}

// TestSpecValidation runs every binary module of the spec suite that must
// validate, and every assert_invalid module, which must fail with
// ErrInvalid and a message containing the spec's text.
func TestSpecValidation(t *testing.T) {
	var invalid, agreed, valid, malformed int
	for _, wast := range spectest.WastFiles(t) {
		jsonPath := spectest.Convert(t, wast)
		b, err := os.ReadFile(jsonPath)
		if err != nil {
			t.Fatal(err)
		}
		var script struct{ Commands []specCommand }
		if err := json.Unmarshal(b, &script); err != nil {
			t.Fatalf("%s: %v", jsonPath, err)
		}
		name := strings.TrimSuffix(filepath.Base(wast), ".wast")
		for _, c := range script.Commands {
			if !strings.HasSuffix(c.Filename, ".wasm") {
				continue
			}
			where := name + ":" + itoa(c.Line)
			mod, err := os.ReadFile(filepath.Join(filepath.Dir(jsonPath), c.Filename))
			if err != nil {
				t.Fatal(err)
			}
			switch c.Type {
			case "module", "assert_unlinkable", "assert_uninstantiable", "assert_trap":
				m, err := binary.Decode(mod)
				if err != nil {
					t.Errorf("%s: decode: %v", where, err)
					continue
				}
				valid++
				if err := validate.Module(m, nil); err != nil {
					t.Errorf("%s: valid module rejected: %v", where, err)
				}
			case "assert_malformed":
				// Most are the decoder's to reject; those it lets through
				// (inside bodies and constant expressions) are ours.
				m, err := binary.Decode(mod)
				if err != nil {
					continue
				}
				malformed++
				if err := validate.Module(m, nil); !errors.Is(err, validate.ErrMalformed) {
					t.Errorf("%s: malformed module: got %v, want ErrMalformed %q", where, err, c.Text)
				}
			case "assert_invalid":
				m, err := binary.Decode(mod)
				if err != nil {
					t.Errorf("%s: decode of invalid (not malformed) module: %v", where, err)
					continue
				}
				invalid++
				err = validate.Module(m, nil)
				switch {
				case err == nil:
					t.Errorf("%s: invalid module accepted, want %q", where, c.Text)
				case !errors.Is(err, validate.ErrInvalid):
					t.Errorf("%s: got %v, want ErrInvalid %q", where, err, c.Text)
				case strings.Contains(err.Error(), c.Text):
					agreed++
				case knownWording[where] != "":
				default:
					t.Errorf("%s: got %q, want text %q", where, err, c.Text)
				}
			}
		}
	}
	t.Logf("%d assert_malformed modules that decode, all rejected as malformed", malformed)
	t.Logf("%d valid modules; %d assert_invalid modules, %d with the spec's wording (%.1f%%)",
		valid, invalid, agreed, 100*float64(agreed)/float64(max(invalid, 1)))
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
