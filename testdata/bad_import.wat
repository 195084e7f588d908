(module
  (import "provider" "inc" (func (param i32) (result i32))))
