;; run(n) stores at 8*i, for i in 0..n-1, lane 0 of f64x2.relaxed_madd on
;; inputs where fused and unfused differ: with s = 2^(i&7), fused gives
;; 2^((i&7)-53), unfused 0. A run whose decision changed part-way leaves
;; both kinds of entries.
(module
  (memory (export "mem") 1)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $s v128)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (f64x2.splat (f64.convert_i32_u
          (i32.shl (i32.const 1) (i32.and (local.get $i) (i32.const 7))))))
        (i64.store (i32.shl (local.get $i) (i32.const 3))
          (i64x2.extract_lane 0 (f64x2.relaxed_madd
            (f64x2.mul (v128.const f64x2 0x1.0000004p+0 0x1.0000004p+0) (local.get $s))
            (v128.const f64x2 0x1.0000002p+0 0x1.0000002p+0)
            (f64x2.mul (v128.const f64x2 -0x1.0000006p+0 -0x1.0000006p+0) (local.get $s)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $i)))
