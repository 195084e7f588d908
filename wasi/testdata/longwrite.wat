;; Writes 8 MiB to stdout the way libc does: fd_write in a loop until all
;; is written, so a short write is followed by another call.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 129)
  (func (export "_start")
    ;; the iovec at 0: {65536, 8 MiB}; nwritten at 8
    (i32.store (i32.const 0) (i32.const 65536))
    (i32.store (i32.const 4) (i32.const 8388608))
    (block $done
      (loop $more
        (br_if $done
          (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 8))))
        (i32.store (i32.const 4) (i32.sub (i32.load (i32.const 4)) (i32.load (i32.const 8))))
        (br_if $more (i32.load (i32.const 4)))))))
