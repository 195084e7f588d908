package ferry

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// A *Paused resumed a second time used to re-run from its old pause point
// against the state the first resume had already advanced (ckpt.wasm's
// global g ended at 33 instead of 27, without an error).
func TestPausedResumedTwiceRefused(t *testing.T) {
	ctx := context.Background()
	rt, inst, _, err := runCkpt(t, 20, 1, CallOptions{PauseAfter: 30})
	defer rt.Close(ctx)
	var p *Paused
	if !errors.As(err, &p) {
		t.Fatalf("run(20, 1) with PauseAfter 30: %v, want a *Paused", err)
	}
	for k := 0; k < 2; k++ { // writing before resuming is repeatable
		if _, err := p.WriteCheckpoint(&bytes.Buffer{}, NewCheckpointConfig()); err != nil {
			t.Fatalf("WriteCheckpoint %d before Resume: %v", k+1, err)
		}
	}
	if _, err := p.Resume(ctx, CallOptions{}); err != nil {
		t.Fatal(err)
	}
	if g := inst.Global("g").Get(); g != 27 {
		t.Fatalf("g = %d after the resume, want 27", g)
	}
	if _, err := p.Resume(ctx, CallOptions{}); !errors.Is(err, ErrPausedConsumed) {
		t.Errorf("second Resume: %v, want ErrPausedConsumed", err)
	}
	if g := inst.Global("g").Get(); g != 27 {
		t.Errorf("g = %d after the refused resume, want 27", g)
	}
	if _, err := p.WriteCheckpoint(&bytes.Buffer{}, NewCheckpointConfig()); !errors.Is(err, ErrPausedConsumed) {
		t.Errorf("WriteCheckpoint after Resume: %v, want ErrPausedConsumed", err)
	}
	if _, err := p.Capture(NewCheckpointConfig(), nil); !errors.Is(err, ErrPausedConsumed) {
		t.Errorf("Capture after Resume: %v, want ErrPausedConsumed", err)
	}
}
