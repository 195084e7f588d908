;; One import of every kind, for CompiledModule.ImportTypes.
(module
  (import "host" "log" (func (param i32 i64) (result f32)))
  (import "host" "nothing" (func))
  (import "host" "tab" (table 2 10 funcref))
  (import "host" "mem" (memory 1))
  (import "host" "g" (global (mut f64)))
  (import "host" "c" (global externref))
  (func (export "call") (result f32)
    (call 0 (i32.const 1) (i64.const 2))))
