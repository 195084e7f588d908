;; A function that waits in the host, then uses its instance's memory,
;; handed to the host as a funcref and called from another instance.
(module
  (import "env" "wait" (func $wait))
  (type $t (func (result i32)))
  (memory (export "mem") 1)
  (table $tab 1 funcref)
  (func $g (result i32)
    (call $wait)
    (i32.store (i32.const 0) (i32.const 5))
    (i32.load (i32.const 0)))
  (elem declare func $g)
  (func (export "ref") (result funcref) (ref.func $g))
  (func (export "callref") (param funcref) (result i32)
    (table.set $tab (i32.const 0) (local.get 0))
    (call_indirect $tab (type $t) (i32.const 0))))
