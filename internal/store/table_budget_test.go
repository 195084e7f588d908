package store

import (
	"errors"
	"runtime"
	"testing"

	"github.com/ferryvm/ferry/internal/wasm"
)

func tablesModule(mins ...uint64) *wasm.Module {
	m := &wasm.Module{}
	for _, n := range mins {
		m.Tables = append(m.Tables, wasm.TableType{Elem: wasm.FuncRef, Limits: lim(n)})
	}
	return m
}

// Issue 14: each table was capped at 10 million elements but their number
// was not, so 100 tables grown to the cap held 7.65 GB. The store's limit
// counts the elements of all its tables together.
func TestTableGrowTotalCap(t *testing.T) {
	// At the default limit, a second table cannot take what the first
	// leaves: the failed grow allocates nothing.
	s := NewStore()
	inst, err := s.Instantiate(tablesModule(1, 0), "", nil, noImports)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, ok := inst.Tables[1].Grow(MaxTableElems, 0)
	runtime.ReadMemStats(&after)
	if ok {
		t.Errorf("grew a second table to %d elements past the default limit %d", MaxTableElems, DefaultTableElemLimit)
	}
	if used := after.TotalAlloc - before.TotalAlloc; used > 1<<20 {
		t.Errorf("the grow allocated %d bytes", used)
	}
	inst.Close()

	s = NewStore()
	s.SetTableElemLimit(1000)
	a, err := s.Instantiate(tablesModule(100, 0), "", nil, noImports)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Tables[0].Grow(800, 0); !ok {
		t.Fatal("grow within the limit failed")
	}
	if old, ok := a.Tables[1].Grow(101, 0); ok || old != 0 {
		t.Errorf("grow past the limit: ok %v, old %d", ok, old)
	}
	if _, ok := a.Tables[1].Grow(100, 0); !ok || s.TableElemsInUse() != 1000 {
		t.Errorf("grow to the limit: ok %v, %d in use", ok, s.TableElemsInUse())
	}
	// Instantiation beyond the limit fails, and gives back what it took.
	if _, err := s.Instantiate(tablesModule(0, 1), "", nil, noImports); !errors.Is(err, ErrTableLimit) {
		t.Errorf("instantiation past the limit: %v", err)
	}
	if n := s.TableElemsInUse(); n != 1000 {
		t.Errorf("%d elements in use after a failed instantiation, want 1000", n)
	}
	// Closing the instance gives its tables' elements back.
	a.Close()
	a.Close()
	if n := s.TableElemsInUse(); n != 0 {
		t.Errorf("%d elements in use after close", n)
	}
	b, err := s.Instantiate(tablesModule(1000), "", nil, noImports)
	if err != nil {
		t.Fatalf("instantiation after close: %v", err)
	}
	// A restore resizes within the limit too.
	if err := b.Tables[0].Resize(1001); !errors.Is(err, ErrTableLimit) {
		t.Errorf("resize past the limit: %v", err)
	}
	if err := b.Tables[0].Resize(10); err != nil || s.TableElemsInUse() != 10 {
		t.Errorf("resize down: %v, %d in use", err, s.TableElemsInUse())
	}
	b.Close()
}
