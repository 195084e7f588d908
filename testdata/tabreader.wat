;; Calls through provider's table.
(module
  (import "provider" "tab" (table 2 funcref))
  (type $t (func (result i32)))
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0))))
