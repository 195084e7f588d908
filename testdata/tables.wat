;; Two tables that a guest grows: the runtime's table budget counts both.
(module
  (table $a 16 funcref)
  (table $b 0 funcref)
  (func (export "grow_a") (param i32) (result i32)
    (table.grow $a (ref.null func) (local.get 0)))
  (func (export "grow_b") (param i32) (result i32)
    (table.grow $b (ref.null func) (local.get 0))))
