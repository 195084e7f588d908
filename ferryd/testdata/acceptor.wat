;; acceptor accepts connections on its pre-opened listening socket (fd 3)
;; one at a time, writes "N\n" to each (N counts the connections) and
;; closes it, and prints the same line to stdout: a migrated run must
;; answer on the destination's socket and go on counting from there.
(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 32: a relative clock subscription (monotonic, 2 ms), for when accept fails
  (data (i32.const 32) "\00\00\00\00\00\00\00\00" "\00\00\00\00\00\00\00\00" "\01\00\00\00\00\00\00\00" "\80\84\1e\00\00\00\00\00")
  (func $print (param $fd i32) (param $n i32) (local $p i32)
    (local.set $p (i32.const 219))
    (i32.store8 (i32.const 219) (i32.const 10))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (local.get $n)))
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (i32.sub (i32.const 220) (local.get $p)))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 16))))
  (func (export "_start") (local $n i32) (local $conn i32)
    (loop $next
      (if (i32.eqz (call $accept (i32.const 3) (i32.const 0) (i32.const 300)))
        (then
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (local.set $conn (i32.load (i32.const 300)))
          (call $print (local.get $conn) (local.get $n))
          (drop (call $fd_close (local.get $conn)))
          (call $print (i32.const 1) (local.get $n)))
        (else
          (drop (call $poll_oneoff (i32.const 32) (i32.const 96) (i32.const 1) (i32.const 128)))))
      (br $next))))
