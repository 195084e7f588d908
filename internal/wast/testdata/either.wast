;; (either ...) results: any listed outcome passes (relaxed-SIMD scripts).
(module
  (func (export "seven") (result i32) (i32.const 7))
  (func (export "v") (result v128) (v128.const i32x4 1 2 3 4))
  (func (export "nan") (result f32) (f32.const nan)))
(assert_return (invoke "seven") (either (i32.const 7)))
(assert_return (invoke "seven") (either (i32.const 1) (i32.const 7)))
(assert_return (invoke "v") (either (v128.const i32x4 0 0 0 0) (v128.const i32x4 1 2 3 4)))
(assert_return (invoke "nan") (either (f32.const 0) (f32.const nan:canonical)))
(assert_return (invoke "seven") (either (i32.const 1) (i32.const 2)))
(assert_return (invoke "v") (either (v128.const i16x8 0 0 0 0 0 0 0 0) (v128.const i32x4 1 2 3 5)))
