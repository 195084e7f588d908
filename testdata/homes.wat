;; Register homes under checkpoints (tier_homes_test.go): a loop whose
;; locals of all four scalar types are live across its back-edge and
;; change every iteration, while the loop takes a poll, a call (ExitCall)
;; and memory.grow (ExitInterp) and stores a running value, so that every
;; pause point finds the compiled tier's homes holding values their
;; slots do not.
(module
  (memory (export "mem") 1 4)
  (func $mix (param i32 i64) (result i32)
    (i32.xor (local.get 0) (i32.wrap_i64 (i64.shr_u (local.get 1) (i64.const 7)))))
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $a i32) (local $b i32)
    (local $p i64) (local $q i64)
    (local $x f32) (local $y f32)
    (local $X f64) (local $Y f64)
    (local.set $a (i32.const 7))
    (local.set $q (i64.const 0x9E3779B97F4A7C15))
    (local.set $x (f32.const 1.5))
    (local.set $X (f64.const 0.25))
    (loop $l
      (local.set $a (i32.add (i32.mul (local.get $a) (i32.const 1103515245)) (i32.const 12345)))
      (local.set $b (call $mix (local.get $a) (local.get $q)))
      (local.set $p (i64.add (local.get $p) (i64.extend_i32_u (local.get $b))))
      (local.set $q (i64.rotl (i64.xor (local.get $q) (local.get $p)) (i64.const 13)))
      (local.set $x (f32.add (local.get $x) (f32.convert_i32_u (i32.and (local.get $a) (i32.const 255)))))
      (local.set $y (f32.mul (local.get $x) (f32.const 0.5)))
      (local.set $X (f64.add (local.get $X) (f64.promote_f32 (local.get $y))))
      (local.set $Y (f64.sqrt (local.get $X)))
      (local.set $b (i32.add (local.get $b) (memory.grow (i32.const 0))))
      (i64.store offset=64 (i32.shl (i32.and (local.get $i) (i32.const 7)) (i32.const 3)) (local.get $q))
      (f64.store (i32.const 128) (local.get $Y))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (i64.add (i64.add (local.get $p) (local.get $q))
      (i64.add (i64.extend_i32_u (i32.add (local.get $b) (i32.reinterpret_f32 (local.get $y))))
        (i64.reinterpret_f64 (local.get $Y))))))
