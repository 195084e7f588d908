;; Checkpoint tests: a 1 GiB memory and a small one (by the size exported
;; function), a funcref table, a mutable global, a passive data segment and
;; a counting loop that can be paused.
(module
  (type $t (func (param i32) (result i32)))
  (memory (export "mem") 1 16384)
  (table $tab 4 8 funcref)
  (global $g (export "g") (mut i32) (i32.const 7))
  (global $k i64 (i64.const 99))
  (data $p "passive segment")
  (data (i32.const 100) "active")
  (elem (table $tab) (i32.const 0) func $double $triple)
  (elem $later funcref (ref.func $triple))
  (func $double (type $t) (i32.mul (local.get 0) (i32.const 2)))
  (func $triple (type $t) (i32.mul (local.get 0) (i32.const 3)))
  ;; grow memory to $pages pages, drop the passive segment, move $triple
  ;; to slot 3, then sum call_indirect(i % 2, i) for i < n, storing the
  ;; running sum at address 64 and keeping a funcref in a local.
  (func (export "run") (param $n i32) (param $pages i32) (result i32)
    (local $i i32) (local $s i32) (local $f funcref)
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $pages) (memory.size))))))
    (memory.init $p (i32.const 200) (i32.const 0) (i32.const 7))
    (data.drop $p)
    (table.init $tab $later (i32.const 3) (i32.const 0) (i32.const 1))
    (elem.drop $later)
    (local.set $f (table.get $tab (i32.const 1)))
    (loop $l
      (local.set $s (i32.add (local.get $s)
        (call_indirect (type $t) (local.get $i) (i32.rem_u (local.get $i) (i32.const 2)))))
      (i32.store (i32.const 64) (local.get $s))
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.add (local.get $s)
      (call_indirect (type $t) (i32.const 1) (i32.const 3))))
)
