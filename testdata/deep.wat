;; deep.wat: rec(n) recurses n calls deep, then counts down a loop at the
;; bottom, so a pause lands with about n+1 frames on the stack.
(module
  (memory (export "mem") 1)
  (func $rec (export "rec") (param $n i32) (result i32)
    (local $i i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then
        (local.set $i (i32.const 100))
        (loop $l
          (local.set $i (i32.sub (local.get $i) (i32.const 1)))
          (br_if $l (local.get $i)))
        (i32.const 0))
      (else
        (i32.add (call $rec (i32.sub (local.get $n) (i32.const 1))) (i32.const 1))))))
