;; First-touch verification of a restore (restore_firsttouch_test.go).
;; Each export fills memory from 4 KiB to 5 MiB with 'U' (so that all 80
;; pages are stored, and the stored data is five 1 MiB chunks laid out as
;; memory is), counts to $n in a loop (where a test pauses it), then acts
;; on chunk 0 only or on chunk 3 too.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 80)
  ;; iovec {16, 28} at 0: the message, in chunk 0; iovec {3 MiB + 16, 8}
  ;; at 8: bytes of chunk 3.
  (data (i32.const 0) "\10\00\00\00\1c\00\00\00\10\00\30\00\08\00\00\00")
  (data (i32.const 16) "hello from the restored run\n")
  (func $prepare (param $n i32)
    (local $i i32)
    (memory.fill (i32.const 4096) (i32.const 0x55) (i32.const 5238784))
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  ;; Writes the message; returns fd_write's errno.
  (func (export "write_after") (param $n i32) (result i32)
    (call $prepare (local.get $n))
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 1000)))
  ;; Writes the message, then spins without a host call.
  (func (export "write_then_spin") (param $n i32)
    (call $prepare (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 1000)))
    (loop $l (br $l)))
  ;; Has the host write 8 bytes of chunk 3 that the guest never reads.
  (func (export "write_far") (param $n i32) (result i32)
    (call $prepare (local.get $n))
    (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 1000)))
  ;; Reads a byte of chunk 3, then writes the message.
  (func (export "read_far_then_write") (param $n i32) (result i32)
    (call $prepare (local.get $n))
    (i32.add
      (i32.load8_u (i32.const 3145744))
      (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 1000))))
)
