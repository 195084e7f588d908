package ferry

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/ferryvm/ferry/internal/snapshot"
)

// handleTable is an embedder's host state: handles the guest holds,
// encoded as "name=value" lines (version 2; version 1 had no values).
type handleTable struct {
	name     string
	handles  map[string]int
	restored int // RestoreHostState calls
	failWith error
}

func (h *handleTable) HostStateName() string    { return h.name }
func (h *handleTable) HostStateVersion() uint32 { return 2 }

func (h *handleTable) CheckpointHostState() ([]byte, error) {
	if h.failWith != nil {
		return nil, h.failWith
	}
	var b bytes.Buffer
	for _, k := range []string{"db", "log", "sock"} {
		if v, ok := h.handles[k]; ok {
			fmt.Fprintf(&b, "%s=%d\n", k, v)
		}
	}
	return b.Bytes(), nil
}

func (h *handleTable) RestoreHostState(version uint32, b []byte) error {
	h.restored++
	if h.failWith != nil {
		return h.failWith
	}
	if version != 2 {
		return fmt.Errorf("version %d", version)
	}
	h.handles = map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var k string
		var v int
		if _, err := fmt.Sscanf(strings.Replace(line, "=", " ", 1), "%s %d", &k, &v); err != nil {
			return fmt.Errorf("line %q: %w", line, err)
		}
		h.handles[k] = v
	}
	return nil
}

func newHandles() *handleTable {
	return &handleTable{name: "example.com/handles", handles: map[string]int{"db": 3, "log": 7, "sock": 11}}
}

func readCk(t *testing.T, b []byte) *Checkpoint {
	t.Helper()
	ck, err := ReadCheckpoint(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

// A paused call's checkpoint carries the embedder's state to the
// restore's plug-in of that name, and the call resumes to its end.
func TestHostStateRoundTripPaused(t *testing.T) {
	ctx := context.Background()
	_, p := pausedCkpt(t)
	other := &handleTable{name: "cache", handles: map[string]int{"db": 1}}
	b := checkpointBytes(t, p, NewCheckpointConfig().WithHostState(newHandles(), other))
	ck := readCk(t, b)
	if got := ck.HostStates(); len(got) != 2 || got[0].Name != "cache" || got[1].Name != "example.com/handles" || got[1].Version != 2 {
		t.Fatalf("HostStates %+v", got)
	}
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	dst, dstOther := &handleTable{name: "example.com/handles"}, &handleTable{name: "cache"}
	p2, err := rt.Restore(ctx, ck, NewRestoreConfig().WithHostState(dst, dstOther))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dst.handles) != fmt.Sprint(newHandles().handles) || dst.restored != 1 || dstOther.handles["db"] != 1 {
		t.Fatalf("restored %v (%d calls), %v", dst.handles, dst.restored, dstOther.handles)
	}
	if _, err := p2.Resume(ctx, CallOptions{}); err != nil {
		t.Fatal(err)
	}
}

// An idle checkpoint carries it too.
func TestHostStateRoundTripIdle(t *testing.T) {
	ctx := context.Background()
	rt, cm := kvRuntime(t, nil, nil)
	inst := kvBoot(t, rt, cm, 100)
	var buf bytes.Buffer
	if _, err := inst.WriteCheckpoint(&buf, NewCheckpointConfig().WithHostState(newHandles())); err != nil {
		t.Fatal(err)
	}
	ck := readCk(t, buf.Bytes())
	dst := &handleTable{name: "example.com/handles"}
	got, err := rt.RestoreInstance(ctx, ck, NewRestoreConfig().WithCompiledModule(cm).WithHostState(dst))
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close(ctx)
	if dst.handles["sock"] != 11 || len(dst.handles) != 3 {
		t.Fatalf("restored %v", dst.handles)
	}
	if _, err := kvHandle(ctx, got, "GET /"); err != nil {
		t.Fatal(err)
	}
}

// A checkpoint holding state no plug-in of the restore claims is refused
// before anything is restored, naming the plug-in; the plug-ins given are
// not called.
func TestHostStateMissingPluginRefused(t *testing.T) {
	ctx := context.Background()
	_, p := pausedCkpt(t)
	ck := readCk(t, checkpointBytes(t, p, NewCheckpointConfig().WithHostState(newHandles())))
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	unrelated := &handleTable{name: "cache"}
	for _, cfg := range []RestoreConfig{NewRestoreConfig(), NewRestoreConfig().WithHostState(unrelated)} {
		_, err := rt.Restore(ctx, ck, cfg)
		if !errors.Is(err, ErrHostStateUnclaimed) || !strings.Contains(err.Error(), `"example.com/handles"`) {
			t.Fatalf("restore without the plug-in: %v", err)
		}
	}
	if unrelated.restored != 0 {
		t.Fatal("a plug-in was called by a refused restore")
	}
}

// A plug-in's failure fails the checkpoint or the restore with its error,
// and names that break the section's rules are refused at checkpoint.
func TestHostStatePluginErrors(t *testing.T) {
	ctx := context.Background()
	_, p := pausedCkpt(t)
	boom := errors.New("boom")
	bad := newHandles()
	bad.failWith = boom
	if _, err := p.WriteCheckpoint(&bytes.Buffer{}, NewCheckpointConfig().WithHostState(bad)); !errors.Is(err, boom) {
		t.Fatalf("failing plug-in: %v", err)
	}
	for _, name := range []string{"", "wasi_snapshot_preview1", "a b", "\x1b[31m"} {
		if _, err := p.WriteCheckpoint(&bytes.Buffer{}, NewCheckpointConfig().WithHostState(&handleTable{name: name})); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if _, err := p.WriteCheckpoint(&bytes.Buffer{}, NewCheckpointConfig().WithHostState(newHandles(), newHandles())); err == nil {
		t.Error("two plug-ins of one name accepted")
	}
	ck := readCk(t, checkpointBytes(t, p, NewCheckpointConfig().WithHostState(newHandles())))
	rt := NewRuntime(NewRuntimeConfig())
	defer rt.Close(ctx)
	dst := &handleTable{name: "example.com/handles", failWith: boom}
	if _, err := rt.Restore(ctx, ck, NewRestoreConfig().WithHostState(dst)); !errors.Is(err, boom) {
		t.Fatalf("failing restorer: %v", err)
	}
	// The config is immutable: deriving two from one base shares nothing.
	base := NewCheckpointConfig().WithHostState(newHandles())
	a, b := base.WithHostState(&handleTable{name: "a"}), base.WithHostState(&handleTable{name: "b"})
	if a.host[1].HostStateName() != "a" || b.host[1].HostStateName() != "b" || len(base.host) != 1 {
		t.Fatal("WithHostState changed its receiver")
	}
	// A nil plug-in is no plug-in, as before there were several.
	if n := len(base.WithHostState(nil).host); n != 1 {
		t.Fatalf("nil plug-in kept: %d", n)
	}
}

// forgeHostState changes the last byte of the host-state payload of b and
// fixes the section's checksums, as an attacker would.
func forgeHostState(t *testing.T, b []byte) []byte {
	t.Helper()
	f, err := snapshot.ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	b = append([]byte(nil), b...)
	for _, s := range f.Sections {
		if s.Type != snapshot.SectionHostState {
			continue
		}
		if s.Compressed {
			t.Fatal("compressed host-state section")
		}
		end := s.Offset + int64(s.Length)
		b[end-2] ^= 1 // a digit of the last value
		h := b[s.Offset-32 : s.Offset]
		tab := crc32.MakeTable(crc32.Castagnoli)
		binary.LittleEndian.PutUint32(h[24:], crc32.Checksum(b[s.Offset:end], tab))
		binary.LittleEndian.PutUint32(h[28:], crc32.Checksum(h[:28], tab))
		return b
	}
	t.Fatal("no host-state section")
	return nil
}

// A host-state section changed after a trusted signature was made is
// refused, as every section is; a damaged one fails its checksum.
func TestHostStateForgedSectionRefused(t *testing.T) {
	_, p := pausedCkpt(t)
	k, err := GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	signed := checkpointBytes(t, p, NewCheckpointConfig().WithHostState(newHandles()).WithSigningKey(k))
	trust := NewOpenConfig().WithTrustedKey(k.Trusted())
	if _, err := ReadCheckpointWith(bytes.NewReader(signed), int64(len(signed)), trust); err != nil {
		t.Fatalf("the genuine checkpoint: %v", err)
	}
	forged := forgeHostState(t, signed)
	// Its checksums hold: only the signature tells.
	if _, err := ReadCheckpoint(bytes.NewReader(forged), int64(len(forged))); err != nil {
		t.Fatalf("forged checkpoint, no key trusted: %v", err)
	}
	if _, err := ReadCheckpointWith(bytes.NewReader(forged), int64(len(forged)), trust); !errors.Is(err, ErrCheckpointCorrupt) {
		t.Fatalf("forged host state under a trusted signature: %v", err)
	}
	damaged := append([]byte(nil), signed...)
	f, err := snapshot.ReadBytes(signed)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Sections {
		if s.Type == snapshot.SectionHostState {
			damaged[s.Offset] ^= 0x40
		}
	}
	if _, err := ReadCheckpoint(bytes.NewReader(damaged), int64(len(damaged))); !errors.Is(err, ErrCheckpointCorrupt) {
		t.Fatalf("damaged host state: %v", err)
	}
}
