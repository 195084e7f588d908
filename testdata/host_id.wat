;; Calls its host's "id" twice and adds one: which host functions an
;; instance was linked to shows in its result.
(module
  (import "env" "id" (func $id (result i32)))
  (func (export "run") (result i32)
    (i32.add (i32.add (call $id) (call $id)) (i32.const 1))))
