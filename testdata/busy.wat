;; Lifecycle tests: a call that runs until stopped (writing memory all the
;; while), one that blocks in a host function, and one that re-enters the
;; instance from a host function.
(module
  (import "env" "ready" (func $ready))
  (import "env" "block" (func $block))
  (import "env" "reenter" (func $reenter (result i32)))
  (memory (export "mem") 1)
  (func (export "busy")
    (local $i i32)
    (call $ready)
    (loop $l
      (i32.store (i32.and (local.get $i) (i32.const 0xfffc)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
  (func (export "blocked") (call $ready) (call $block))
  (func (export "get") (result i32) (i32.add (i32.load (i32.const 8)) (i32.const 1)))
  (func (export "outer") (result i32) (call $ready) (call $reenter))
)
