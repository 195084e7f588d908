;; A reactor for idle checkpoints: init builds a table (the boot), then
;; handle answers requests, strings the host writes at scratch, with the
;; table; requests counts them and env.note hears of each.
(module
  (import "env" "note" (func $note (param i32)))
  (memory (export "memory") 2)
  (global $requests (export "requests") (mut i32) (i32.const 0))
  (global $ready (export "ready") (mut i32) (i32.const 0))
  (func (export "init") (param $n i32)
    (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store
          (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))
          (i32.xor (i32.mul (local.get $i) (i32.const 0x9e3779b1))
                   (i32.rotl (local.get $i) (i32.const 13))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (global.set $ready (local.get $n)))
  (func (export "scratch") (result i32) (i32.const 65536))
  (func (export "handle") (param $p i32) (param $len i32) (result i32)
    (local $h i32) (local $i i32)
    (if (i32.eqz (global.get $ready)) (then unreachable))
    (local.set $h (i32.const 0x811c9dc5))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $h
          (i32.mul
            (i32.xor (local.get $h) (i32.load8_u (i32.add (local.get $p) (local.get $i))))
            (i32.const 0x01000193)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (global.set $requests (i32.add (global.get $requests) (i32.const 1)))
    (call $note (local.get $len))
    (i32.xor (local.get $h)
      (i32.load
        (i32.add (i32.const 1024)
          (i32.shl (i32.rem_u (local.get $h) (global.get $ready)) (i32.const 2)))))))
