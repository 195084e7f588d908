// Package apiv1 holds the JSON messages of ferryd's HTTP API (version 1),
// shared by the daemon and its clients. Field names are only ever added.
package apiv1

import "time"

// Dir grants the guest the host directory Host under the guest path
// Guest (Host itself when Guest is empty).
type Dir struct {
	Host  string `json:"host"`
	Guest string `json:"guest,omitempty"`
}

// RunRequest starts a WASI command. Module is the module's binary (JSON
// base64). Args are the guest's argv, its first element included; Env
// holds NAME=VALUE entries. The guest gets nothing of the host beyond
// Dirs.
type RunRequest struct {
	Name   string   `json:"name"`
	Module []byte   `json:"module"`
	Args   []string `json:"args,omitempty"`
	Env    []string `json:"env,omitempty"`
	Dirs   []Dir    `json:"dirs,omitempty"`
	// Tier is the code that runs the program: "interp", "compiled" or
	// "auto" (ferry.ParseTier); empty is the daemon's default. It travels
	// with the instance when it migrates.
	Tier string `json:"tier,omitempty"`
	// Listen are TCP addresses (HOST:PORT) the daemon listens on for the
	// guest, pre-opened as listening sockets after the directories, in
	// order. A migration re-creates them on the destination.
	Listen []string `json:"listen,omitempty"`
}

// RestoreRequest restores a checkpoint as the instance Name: the one
// uploaded as the request's body, or, with From, the checkpoint of that
// name in the daemon's state directory (one a checkpoint request wrote).
// Dirs grant the host directories the checkpoint's pre-opens need; a
// checkpoint grants nothing by itself.
type RestoreRequest struct {
	Name string `json:"name"`
	From string `json:"from,omitempty"`
	Dirs []Dir  `json:"dirs,omitempty"`
	// Listen grants the checkpoint's listening sockets, in order (as
	// RunRequest.Listen).
	Listen []string `json:"listen,omitempty"`
}

// RestoreHeader carries a RestoreRequest (JSON) when the body is the
// uploaded checkpoint.
const RestoreHeader = "Ferry-Restore"

// Instance states.
const (
	StateCreated   = "created"   // restored by a migration, waiting for its commit
	StateRunning   = "running"   // the guest runs
	StatePaused    = "paused"    // stopped at a pause point, resumable
	StateMigrating = "migrating" // paused and fenced while a migration decides
	StateExited    = "exited"    // _start returned or the guest called proc_exit
	StateFailed    = "failed"    // a trap or another error ended it
)

// Instance describes one instance.
type Instance struct {
	Name     string    `json:"name"`
	State    string    `json:"state"`
	ExitCode *int      `json:"exit_code,omitempty"`
	Error    string    `json:"error,omitempty"`
	Created  time.Time `json:"created"`
	Args     []string  `json:"args,omitempty"`
	Dirs     []Dir     `json:"dirs,omitempty"`
	// RestoredFrom names the checkpoint or migration it came from.
	RestoredFrom string `json:"restored_from,omitempty"`
	// Tier is the tier asked for at run ("" for the daemon's default).
	Tier string `json:"tier,omitempty"`
	// Listen are the addresses the guest's listening sockets are bound to.
	Listen []string `json:"listen,omitempty"`
	// Migration is the progress of a migration out, while it runs.
	Migration *MigrationProgress `json:"migration,omitempty"`
}

// MigrationProgress is a running migration as its source sees it.
type MigrationProgress struct {
	ID    string `json:"id"`
	To    string `json:"to"`
	Phase string `json:"phase"` // connecting, precopy, streaming, restoring, committing, resolving
	// Bytes have been sent (memory pages and checkpoint) of about Total
	// (the memory's size: zero pages are left out, the program's state
	// added, and a pre-copy sends dirtied pages again).
	Bytes int64 `json:"bytes"`
	Total int64 `json:"total"`
	// Rate is the stream's throughput (bytes per second), and
	// ExpectedDowntime the pause it predicts: with stop-and-copy the
	// whole transfer, with pre-copy the last round's dirty set at the
	// last round's rate.
	Rate             float64       `json:"rate"`
	ExpectedDowntime time.Duration `json:"expected_downtime_ns"`
	Paused           time.Duration `json:"paused_ns"` // so far
	// Precopy: the memory is sent in rounds while the program runs.
	// Rounds is the number of rounds after round 0 finished, DirtyPages
	// the pages (4 KiB) the last one found written, DirtyRate the
	// program's write rate it measured (bytes per second).
	Precopy    bool    `json:"precopy,omitempty"`
	Rounds     int     `json:"rounds,omitempty"`
	DirtyPages int64   `json:"dirty_pages,omitempty"`
	DirtyRate  float64 `json:"dirty_rate,omitempty"`
}

// CheckpointRequest asks for a checkpoint of a running or paused
// instance, written to the state directory unless Stream asks for it as
// the response's body. A running instance continues afterwards unless
// Exit is set (then it stops, as after a checkpoint of `ferry run`).
type CheckpointRequest struct {
	Stream bool `json:"stream,omitempty"`
	Exit   bool `json:"exit,omitempty"`
}

// CheckpointResult reports a checkpoint written to the state directory;
// its Name is what RestoreRequest.From takes.
type CheckpointResult struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

// MigrateRequest moves an instance to the daemon at To (HOST:PORT).
// VerifyMemory makes both sides hash the guest's memory at the switch
// and the destination refuse a difference (a test of the whole path;
// it costs a pass over the memory on each side during the downtime).
// Dirs are the grants the destination gives; empty means the same
// host directories as the source's. Listen likewise: the addresses the
// destination binds the guest's listening sockets to (before the switch:
// one it cannot bind refuses the migration); empty means the source's.
//
// The memory is pre-copied in rounds while the program runs, where the
// host can track writes (docs/ferryd.md); StopAndCopy asks for the
// plain pause-and-send instead, and MaxRounds bounds the rounds (0: the
// default, 30).
type MigrateRequest struct {
	To           string   `json:"to"`
	VerifyMemory bool     `json:"verify_memory,omitempty"`
	Dirs         []Dir    `json:"dirs,omitempty"`
	StopAndCopy  bool     `json:"stop_and_copy,omitempty"`
	MaxRounds    int      `json:"max_rounds,omitempty"`
	Listen       []string `json:"listen,omitempty"`
}

// MigrateResult reports a migration that switched to the destination.
type MigrateResult struct {
	ID    string `json:"id"`
	To    string `json:"to"`
	Bytes int64  `json:"bytes"` // checkpoint bytes sent
	Wire  int64  `json:"wire"`  // bytes on the stream, framing and MACs included
	// Downtime is from the pause on the source to the first instruction
	// on the destination (the destination's wall clock reading against
	// the source's: exact on one host, as good as clock sync between two).
	Downtime time.Duration `json:"downtime_ns"`
	// Acked is from the pause to the destination's acknowledgement that
	// the guest runs, measured on the source's clock alone: an upper
	// bound of Downtime that needs no clock sync.
	Acked time.Duration `json:"acked_ns"`
	// Stream is from the pause to the end of the checkpoint's stream (the
	// source's side of the downtime); Restore is the destination's
	// restore after it, up to the program paused before its first
	// instruction.
	Stream    time.Duration `json:"stream_ns"`
	Restore   time.Duration `json:"restore_ns"`
	MemorySHA string        `json:"memory_sha256,omitempty"`
	// Mode is "precopy" or "stop-and-copy"; NoPrecopy says why a
	// migration that could have pre-copied did not.
	Mode      string `json:"mode"`
	NoPrecopy string `json:"no_precopy,omitempty"`
	// Rounds is the number of pre-copy rounds after round 0; PageBytes
	// the memory page bytes sent, of which FinalPages pages (4 KiB)
	// while paused.
	Rounds     int   `json:"rounds,omitempty"`
	RoundPages []int `json:"round_pages,omitempty"` // each round's dirty set, pages
	PageBytes  int64 `json:"page_bytes,omitempty"`
	FinalPages int   `json:"final_pages,omitempty"`
}

// MigrationStatus is what a destination knows of a migration ID: the
// source asks it when the connection broke after it sent the commit.
type MigrationStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"` // "committed", "aborted" or "unknown"
}

// Error is the body of every failed request.
type Error struct {
	Error string `json:"error"`
}
