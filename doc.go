// Package ferry runs WebAssembly 2.0 modules whose running programs can be
// paused at well-defined points, checkpointed and restored elsewhere.
//
// The facade is small on purpose:
//
//   - a Runtime, configured once by an immutable RuntimeConfig, owns every
//     instance it creates and closes them all in Close;
//   - Compile turns module bytes into a CompiledModule (decoding, validation
//     and lowering happen once, here), and Instantiate links it against the
//     instances registered in the runtime by name;
//   - host functions, globals, memories and tables are built with
//     NewHostModule and become importable like any instance;
//   - values cross the API as 64-bit slots (package api), the same encoding
//     the engine's value stack and checkpoints use.
//
// Errors are values: compile errors wrap ErrMalformed or ErrInvalid, link
// errors wrap ErrLink, traps are *api.TrapError wrapping one of the api.Err*
// sentinels (ErrClosed when the instance was closed during the call,
// ErrInternal for a bug in Ferry), and a cancelled context comes back as an
// error that wraps the context's error. No guest behaviour makes a call
// panic.
//
// A Runtime is safe for concurrent use; an Instance runs one call at a time
// (another goroutine's call fails with ErrBusy) and may be closed while a
// call runs, which stops that call.
//
// Design notes: docs/api.md.
package ferry
