;; The active data segment applies; then the start function traps.
(module
  (import "provider" "mem" (memory 1))
  (data (i32.const 0) "written")
  (func $start unreachable)
  (start $start))
