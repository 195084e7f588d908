;; stdinecho: "read" reads standard input once (fd_read) and writes
;; "got:" and what it read to standard output, or returns the read's errno;
;; "poll_read" first waits for standard input with poll_oneoff;
;; "nonblock" makes standard input non-blocking, as Go's wasip1 runtime
;; does. For the stdin-wait hook tests
;; (stdinwait_test.go). Rebuild: wat2wasm stdinecho.wat -o stdinecho.wasm
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $set_flags (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; "got:" at 96, the bytes read right after it at 100.
  (data (i32.const 96) "got:")
  (func $echo (result i32)
    (local $e i32)
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 64))
    (local.set $e (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
    (if (local.get $e) (then (return (local.get $e))))
    (i32.store (i32.const 32) (i32.const 96))
    (i32.store (i32.const 36) (i32.add (i32.const 4) (i32.load (i32.const 16))))
    (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 20)))
  (func (export "read") (result i32) (call $echo))
  (func (export "nonblock") (result i32) (call $set_flags (i32.const 0) (i32.const 4)))
  ;; One subscription at 200: userdata 7, fd_read (tag 1) of fd 0.
  (func (export "poll_read") (result i32)
    (local $e i32)
    (i64.store (i32.const 200) (i64.const 7))
    (i32.store8 (i32.const 208) (i32.const 1))
    (i32.store (i32.const 216) (i32.const 0))
    (local.set $e (call $poll (i32.const 200) (i32.const 300) (i32.const 1) (i32.const 400)))
    (if (local.get $e) (then (return (local.get $e))))
    (call $echo)))
