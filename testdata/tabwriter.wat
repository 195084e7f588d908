;; Writes its own function into provider's table, then may be closed.
(module
  (import "provider" "tab" (table 2 funcref))
  (func $seven (result i32) (i32.const 7))
  (elem (i32.const 1) $seven))
