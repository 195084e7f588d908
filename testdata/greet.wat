;; Calls the host with a pointer and length into its own memory.
(module
  (import "env" "print" (func $print (param i32 i32)))
  (import "env" "double" (func $double (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello, ferry")
  (func (export "greet")
    (call $print (i32.const 16) (i32.const 12)))
  (func (export "quadruple") (param i32) (result i32)
    (call $double (call $double (local.get 0)))))
