package wast

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestEitherResults(t *testing.T) {
	var out bytes.Buffer
	// wabt 1.0.32 writes (either ...) into its JSON; the own reader reads
	// it from the .wast.
	res, err := Run(context.Background(), filepath.Join("testdata", "either.wast"), &out)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Passed: 5, Failed: 2}); res != want {
		t.Errorf("got %+v, want %+v; output:\n%s", res, want, out.String())
	}
	for _, s := range []string{
		`either.wast:10: assert_return invoke "seven"(): expected (either i32:1 | i32:2), got [i32:7]`,
		`either.wast:11: assert_return invoke "v"(): expected (either `,
	} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}
