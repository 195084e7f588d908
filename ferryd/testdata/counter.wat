;; counter prints 1, 2, 3, ... one number a line, with a 2 ms sleep
;; between lines, and writes each number into one of 64 pages of its
;; memory (page 1 + n%64): its output shows at once whether a migrated run
;; skipped or repeated a step, and its memory changes while it runs.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 65)
  ;; 32: a relative clock subscription (monotonic, 2 ms)
  (data (i32.const 32) "\00\00\00\00\00\00\00\00" "\00\00\00\00\00\00\00\00" "\01\00\00\00\00\00\00\00" "\80\84\1e\00\00\00\00\00")
  (func $print (param $n i32) (local $p i32)
    (local.set $p (i32.const 219))
    (i32.store8 (i32.const 219) (i32.const 10))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (local.get $n)))
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (i32.sub (i32.const 220) (local.get $p)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16))))
  (func (export "_start") (local $i i32)
    (loop $next
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (i32.store
        (i32.add (i32.const 65536) (i32.mul (i32.rem_u (local.get $i) (i32.const 64)) (i32.const 4096)))
        (local.get $i))
      (call $print (local.get $i))
      (drop (call $poll_oneoff (i32.const 32) (i32.const 96) (i32.const 1) (i32.const 128)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 100000000))))))
