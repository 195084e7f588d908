(module
  (import "provider" "mem" (memory 1))
  (data (i32.const 8) "first")
  (data (i32.const 65535) "out of bounds"))
