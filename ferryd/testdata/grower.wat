;; grower prints 1, 2, 3, ... one number a line with a 2 ms sleep, like
;; counter, and grows its memory by one 64 KiB page every 5 lines (up to
;; 1000 pages), writing each number into the memory's last word: a
;; migration whose rounds run while it grows must carry the grown pages,
;; and its output shows a gap or a repeat at once.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2 1000)
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
      (if (i32.and (i32.eqz (i32.rem_u (local.get $i) (i32.const 5)))
                   (i32.lt_u (memory.size) (i32.const 1000)))
        (then (drop (memory.grow (i32.const 1)))))
      (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (local.get $i))
      (call $print (local.get $i))
      (drop (call $poll_oneoff (i32.const 32) (i32.const 96) (i32.const 1) (i32.const 128)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 100000000))))))
