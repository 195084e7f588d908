;; Effects held back by a restore's concurrent memory verification: each
;; export counts to $n in a loop (where a test pauses it), then either
;; writes the message stored in memory to stdout through WASI or spins
;; forever without a host call. The message's data segment makes the
;; first 4 KiB page present, so a checkpoint stores it as memory data.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec {base 16, len 28} at 0, the message at 16.
  (data (i32.const 0) "\10\00\00\00\1c\00\00\00")
  (data (i32.const 16) "hello from the restored run\n")
  (func $count (param $n i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "write_after") (param $n i32) (result i32)
    (call $count (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.load8_u (i32.const 16)))
  (func (export "spin_after") (param $n i32)
    (call $count (local.get $n))
    (loop $l (br $l)))
)
