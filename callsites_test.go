package ferry

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/ferryvm/ferry/internal/cpu"
	"github.com/ferryvm/ferry/internal/snapshot"
)

// A checkpoint of format 1.0 (no callsites section) restores and finishes
// like an uninterrupted run, with no decision reported as changed.
func TestRestoreFormat10WithoutCallsites(t *testing.T) {
	b, err := os.ReadFile("internal/snapshot/testdata/real.ckpt")
	if err != nil {
		t.Fatal(err)
	}
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if info := ck.Info(); info.FormatVersion != "1.0" || info.CallsitesRecorded || len(info.Callsites) != 0 {
		t.Fatalf("info: format %s, callsites %v %v", info.FormatVersion, info.CallsitesRecorded, info.Callsites)
	}
	rt, p, err := restoreBytes(t, b, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	if c := p.CallsiteChanges(); c != nil {
		t.Fatalf("changes %v", c)
	}
	res, err := p.Resume(context.Background(), CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantRT, wantInst, wantRes, err := runCkpt(t, 20, 2, CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer wantRT.Close(context.Background())
	if got, want := observable(p.Instance(), res), observable(wantInst, wantRes); got != want {
		t.Fatalf("restored run: %s, want %s", got, want)
	}
}

// A checkpoint records the effective features and the table's decisions;
// a restore re-decides recorded decisions for this CPU and reports the
// ones that changed; an unknown semantic builtin is a mismatch, an unknown
// non-semantic one is ignored.
func TestCheckpointCallsites(t *testing.T) {
	t.Cleanup(func() { SetCPUFeatures("native") })
	if err := SetCPUFeatures("baseline"); err != nil {
		t.Fatal(err)
	}
	var se *cpu.SpecError
	if err := SetCPUFeatures("baseline,nonsense"); !errors.As(err, &se) {
		t.Fatalf("bad spec: %v", err)
	}
	b := realCheckpoint(t, false)
	f, err := snapshot.ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := cpu.Host().Mask("baseline")
	if s := f.Snapshot; s.Meta.Arch != base.Arch() || !slices.Equal(s.Meta.Features, base.Names()) || s.Callsites == nil {
		t.Fatalf("meta %s %v, want %s %v; callsites %v", s.Meta.Arch, s.Meta.Features, base.Arch(), base.Names(), s.Callsites)
	}
	rewrite := func(ds []snapshot.Decision) []byte {
		s := f.Snapshot
		s.Callsites = ds
		s.Memories = slices.Clone(s.Memories)
		for k := range s.Memories {
			s.Memories[k].Data = make([]byte, s.Memories[k].Size)
			if err := f.ReadMemory(k, s.Memories[k].Data); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if _, err := snapshot.Write(&buf, &s, snapshot.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if err := SetCPUFeatures("native"); err != nil {
		t.Fatal(err)
	}
	rt, p, err := restoreBytes(t, rewrite([]snapshot.Decision{
		{Builtin: "memory.fill", Impl: "from-the-past"},
		{Builtin: "no.such.builtin", Impl: "x"},
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	c := p.CallsiteChanges()
	rt.Close(context.Background())
	if len(c) != 1 || c[0].Builtin != "memory.fill" || c[0].From != "from-the-past" || c[0].To == "" || c[0].Semantic {
		t.Fatalf("changes %+v", c)
	}
	if c[0].String() != "memory.fill: from-the-past -> "+c[0].To {
		t.Fatalf("String: %q", c[0])
	}
	_, _, err = restoreBytes(t, rewrite([]snapshot.Decision{
		{Builtin: "no.such.relaxed", Impl: "x", Semantic: true, Semantics: "fused"},
	}), false)
	if !errors.Is(err, ErrCheckpointMismatch) {
		t.Fatalf("unknown semantic builtin: %v", err)
	}
}
