package binary

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// decodeAllocating decodes b and reports how many bytes the Go heap handed
// out meanwhile (TotalAlloc only grows, so a collection cannot hide any).
func decodeAllocating(b []byte) (error, uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(b)
	runtime.ReadMemStats(&after)
	return err, after.TotalAlloc - before.TotalAlloc
}

// Issue 14: 3 million one-byte functions took 1.9 GB and seconds to
// compile. A function section beyond MaxFunctions is refused before the
// per-function structures are allocated.
func TestModuleTooManyFunctions(t *testing.T) {
	n := MaxFunctions + 1
	b := mod(sec(secType, "\x01\x60\x00\x00"), sec(secFunction, string(uleb(uint64(n)))+strings.Repeat("\x00", n)))
	err, used := decodeAllocating(b)
	if !errors.Is(err, ErrLimit) {
		t.Errorf("%d functions: %v, want ErrLimit", n, err)
	}
	// A wasm.Func per function would be tens of megabytes.
	if used > 4<<20 {
		t.Errorf("%d functions: decoding allocated %d bytes before failing", n, used)
	}
	// Imported functions count against the same limit.
	imp := sec(secImport, "\x01"+str("m")+str("f")+"\x00\x00")
	b = mod(sec(secType, "\x01\x60\x00\x00"), imp, sec(secFunction, string(uleb(uint64(MaxFunctions)))+strings.Repeat("\x00", MaxFunctions)))
	if _, err := Decode(b); !errors.Is(err, ErrLimit) {
		t.Errorf("1 imported + %d defined functions: %v, want ErrLimit", MaxFunctions, err)
	}
}

// Every other count with an implementation limit is refused just past it,
// with the section and the limit in the error.
func TestModuleLimits(t *testing.T) {
	vec := func(n int, entry string) string { return string(uleb(uint64(n))) + strings.Repeat(entry, n) }
	typ := sec(secType, "\x01\x60\x00\x00")
	tests := []struct {
		name    string
		in      []byte
		section string
	}{
		{"types", mod(sec(secType, vec(MaxTypes+1, "\x60\x00\x00"))), "type"},
		{"parameters", mod(sec(secType, "\x01\x60"+vec(MaxParams+1, "\x7f")+"\x00")), "type"},
		{"results", mod(sec(secType, "\x01\x60\x00"+vec(MaxResults+1, "\x7f"))), "type"},
		{"imports", mod(typ, sec(secImport, vec(MaxImports+1, str("m")+str("g")+"\x03\x7f\x00"))), "import"},
		{"globals", mod(sec(secGlobal, vec(MaxGlobals+1, "\x7f\x00\x41\x00\x0b"))), "global"},
		{"tables", mod(sec(secTable, vec(MaxTables+1, "\x70\x00\x00"))), "table"},
		{"memories", mod(sec(secMemory, vec(MaxMemories+1, "\x00\x00"))), "memory"},
		{"exports", mod(sec(secExport, vec(MaxExports+1, str("")+"\x00\x00"))), "export"},
		{"element segments", mod(sec(secElement, vec(MaxElemSegments+1, "\x01\x00\x00"))), "element"},
		{"segment entries", mod(sec(secElement, "\x01\x01\x00"+vec(MaxElemSegmentEntries+1, "\x00"))), "element"},
		{"data count", mod(sec(secDataCount, string(uleb(MaxDataSegments+1)))), "data count"},
		{"data segments", mod(sec(secData, vec(MaxDataSegments+1, "\x01\x00"))), "data"},
		{"function body", mod(typ, sec(secFunction, "\x01\x00"), sec(secCode, "\x01"+string(uleb(MaxFunctionBodySize+1))+"\x00"+strings.Repeat("\x01", MaxFunctionBodySize-1)+"\x0b")), "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			var de *Error
			if !errors.Is(err, ErrLimit) || !errors.As(err, &de) || de.Section != tt.section {
				t.Fatalf("got %v, want ErrLimit in the %s section", err, tt.section)
			}
		})
	}
	// At the limit is fine.
	if _, err := Decode(mod(sec(secType, "\x01\x60"+vec(MaxParams, "\x7f")+vec(MaxResults, "\x7f")))); err != nil {
		t.Errorf("%d parameters and %d results: %v", MaxParams, MaxResults, err)
	}
}
