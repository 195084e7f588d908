// Package hostlink lets the public packages ferry and wasi hand WASI state
// to each other as a value. Package wasi imports ferry, so ferry cannot
// name *wasi.Module; and a method returning an internal type would put
// that type in wasi's public API. Each side sets its hook in init instead.
package hostlink

import "github.com/ferryvm/ferry/internal/snapshot"

// WASIState, set by package wasi, reports whether h (a plug-in given to
// ferry.CheckpointConfig.WithHostState) is a *wasi.Module and, if it is,
// captures its state for a checkpoint: the struct the file writer encodes,
// encoded once.
var WASIState func(h any) (st *snapshot.WASI, ok bool, err error)

// CheckpointWASI, set by package ferry, returns the WASI section a
// *ferry.Checkpoint read and checked (nil when it has none). Callers only
// read it: one Checkpoint is restored many times.
var CheckpointWASI func(ck any) *snapshot.WASI
