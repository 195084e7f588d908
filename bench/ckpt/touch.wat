;; touch: the guest of ckptbench's checkpoint-size and restore sections.
;;
;;   touch(pages, dense) grows memory 0 to `pages` 64 KiB pages and writes
;;     every 4 KiB page of it: one non-zero byte per page (dense = 0), or
;;     every 8 bytes with a multiplicative hash of the address (dense = 1,
;;     which zstd cannot squeeze). Returns the new size in pages, or -1.
;;   probe(addr) returns the byte at addr. ckptbench pauses it at its first
;;     pause point (its entry: CallOptions.PauseAfter = 1), checkpoints
;;     that, and times restores up to the resumed probe returning.
(module
  (memory (export "memory") 1)
  (func (export "touch") (param $pages i32) (param $dense i32) (result i32)
    (local $addr i32) (local $end i32)
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const -1))))))
    ;; end = pages * 64 KiB - 8 (the last word written); 65536 pages would overflow
    (local.set $end (i32.sub (i32.shl (local.get $pages) (i32.const 16)) (i32.const 8)))
    (if (local.get $dense)
      (then
        (loop $fill
          (i64.store (local.get $addr)
            (i64.mul (i64.extend_i32_u (i32.add (local.get $addr) (i32.const 1)))
                     (i64.const 0x9e3779b97f4a7c15)))
          (local.set $addr (i32.add (local.get $addr) (i32.const 8)))
          (br_if $fill (i32.le_u (local.get $addr) (local.get $end)))))
      (else
        (loop $sparse
          ;; byte = (page number mod 255) + 1, never zero
          (i32.store8 (local.get $addr)
            (i32.add (i32.rem_u (i32.shr_u (local.get $addr) (i32.const 12)) (i32.const 255)) (i32.const 1)))
          (local.set $addr (i32.add (local.get $addr) (i32.const 4096)))
          (br_if $sparse (i32.le_u (local.get $addr) (local.get $end))))))
    (memory.size))
  (func (export "probe") (param $addr i32) (result i32)
    (i32.load8_u (local.get $addr))))
