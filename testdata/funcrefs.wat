;; Hands a funcref to the host, and calls one the host hands in.
(module
  (type $t (func (result i32)))
  (table $tab 1 funcref)
  (func $f (result i32) (i32.const 42))
  (elem declare func $f)
  (func (export "ref") (result funcref) (ref.func $f))
  (func (export "callref") (param funcref) (result i32)
    (table.set $tab (i32.const 0) (local.get 0))
    (call_indirect $tab (type $t) (i32.const 0))))
