(module
  (global $counter (export "counter") (mut i32) (i32.const 0))
  (global (export "answer") i64 (i64.const 42))
  (memory (export "mem") 1 2)
  (table (export "tab") 2 funcref)
  (func $inc (export "inc") (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (global.get $counter))
  (elem (i32.const 0) $inc))
