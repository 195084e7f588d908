// Package difftest runs randomly generated WebAssembly modules under Ferry
// and under wazero's interpreter and reports every observable difference.
//
// Modules come from binaryen's translate-to-fuzz mode (`wasm-opt -ttf`),
// which turns arbitrary bytes into a valid module; the bytes are derived from
// a seed, so a seed (with the binaryen version) names a module. Generated
// modules import logging functions from a "fuzzing-support" module; both
// runtimes get host functions that record every call (name and arguments).
//
// For each module, both runtimes compile and instantiate it, then every
// exported function is called once, in declaration order, with zero
// arguments (null for references), exactly as binaryen's own fuzz-exec does
// (hangLimitInitializer, which resets the generated code's loop budget, is
// just one of those exports). State carries from one call to the next.
// After each call the harness compares:
//
//   - trap or no trap, and the kind of trap when both trap (kinds are mapped
//     to coarse classes because wazero folds several table faults into one
//     "invalid table access");
//   - the results, by type: integers bit for bit; floats bit for bit unless
//     both are NaN, since the spec lets a NaN result carry any payload (and
//     sign) that its rules allow; references by null-ness only, since
//     handles are opaque to the host;
//   - the host-call log, with the same NaN rule for float arguments;
//   - the bytes of every exported memory (SHA-256).
//
// The first difference in a module ends it. A difference is excused, and
// reported as a wazero deviation rather than failing the test, when
//   - the subject trapped (out of bounds memory access) at a memory.init of
//     an *active* data segment: the spec drops active segments at
//     instantiation, wazero 1.12 does not (testdata/README.md); or
//   - the runtimes disagree on whether the call traps and binaryen's own
//     interpreter (wasm-opt --fuzz-exec-before, same calls in the same
//     order) sides with the subject.
//
// The first rule would also excuse a subject that wrongly trapped on an
// empty (length 0, offset 0) memory.init of an active segment; the spec
// tests cover that case.
//
// Known limitations: a NaN stored to memory is compared by its bits, so two
// runtimes that pick different (both legal) NaN payloads and then store them
// would be reported; none has been seen, as both runtimes do float
// arithmetic in Go. A call that exceeds the deadline, or exhausts the call
// stack in either runtime (the limits legitimately differ), is counted as
// inconclusive and ends that module, since the states may have diverged.
package difftest
