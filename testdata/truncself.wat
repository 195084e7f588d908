;; A restored guest whose checkpoint file shrinks under its memory: run
;; counts to $n in a loop (where a test pauses and checkpoints it); then,
;; if $trunc, it opens the file named at offset 0 (ck.ckpt) beneath
;; pre-open fd 3 with O_TRUNC, and last it reads the byte at 0x3000, in a
;; page it has not touched since it was restored, so that the page is
;; still mapped from the checkpoint file.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 4)
  (data (i32.const 0) "ck.ckpt")
  (data (i32.const 0x3000) "page three")
  (func (export "run") (param $n i32) (param $trunc i32) (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (if (local.get $trunc)
      (then
        ;; rights: fd_write and fd_filestat_set_size; the new fd goes to
        ;; 0x8000, a page the checkpoint does not store.
        (if (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 7)
              (i32.const 8) (i64.const 0x400040) (i64.const 0) (i32.const 0) (i32.const 0x8000))
          (then (unreachable)))))
    (i32.load8_u (i32.const 0x3000)))
)
