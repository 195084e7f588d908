;; A kernel whose time goes to one loop (tierprofile_test.go): run(n)
;; iterates n times, calling $leaf every 1024th iteration.
(module
  (func $cold (result i32) (i32.const 7))
  (func $leaf (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (local.set $acc (call $cold))
    (loop $l
      (local.set $acc (i32.add (i32.xor (local.get $acc) (local.get $i)) (i32.const 0x9e37)))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 1023)))
        (then (local.set $acc (call $leaf (local.get $acc)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))
