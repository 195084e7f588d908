package v128

// Lane-wise integer operations against scalar formulas on int64, for every
// lane width: the simple ones, checked so that the straight-line and SWAR
// versions cannot drift.

func intProperties() []property {
	type scalar func(a, b int64, au, bu uint64, bits int) int64
	ops := []struct {
		name   string
		widths []int
		f      scalar
	}{
		{"add", []int{1, 2, 4, 8}, func(a, b int64, _, _ uint64, _ int) int64 { return a + b }},
		{"sub", []int{1, 2, 4, 8}, func(a, b int64, _, _ uint64, _ int) int64 { return a - b }},
		{"mul", []int{2, 4, 8}, func(a, b int64, _, _ uint64, _ int) int64 { return a * b }},
		{"min_s", []int{1, 2, 4}, func(a, b int64, _, _ uint64, _ int) int64 { return min(a, b) }},
		{"max_s", []int{1, 2, 4}, func(a, b int64, _, _ uint64, _ int) int64 { return max(a, b) }},
		{"min_u", []int{1, 2, 4}, func(_, _ int64, a, b uint64, _ int) int64 { return int64(min(a, b)) }},
		{"max_u", []int{1, 2, 4}, func(_, _ int64, a, b uint64, _ int) int64 { return int64(max(a, b)) }},
		{"avgr_u", []int{1, 2}, func(_, _ int64, a, b uint64, _ int) int64 { return int64((a + b + 1) / 2) }},
		{"add_sat_s", []int{1, 2}, func(a, b int64, _, _ uint64, n int) int64 { return clamp(a+b, -1<<(8*n-1), 1<<(8*n-1)-1) }},
		{"sub_sat_s", []int{1, 2}, func(a, b int64, _, _ uint64, n int) int64 { return clamp(a-b, -1<<(8*n-1), 1<<(8*n-1)-1) }},
		{"add_sat_u", []int{1, 2}, func(_, _ int64, a, b uint64, n int) int64 { return clamp(int64(a+b), 0, 1<<(8*n)-1) }},
		{"sub_sat_u", []int{1, 2}, func(_, _ int64, a, b uint64, n int) int64 { return clamp(int64(a)-int64(b), 0, 1<<(8*n)-1) }},
		{"eq", []int{1, 2, 4, 8}, func(a, b int64, _, _ uint64, _ int) int64 { return -b2i(a == b) }},
		{"ne", []int{1, 2, 4, 8}, func(a, b int64, _, _ uint64, _ int) int64 { return -b2i(a != b) }},
		{"lt_s", []int{1, 2, 4, 8}, func(a, b int64, _, _ uint64, _ int) int64 { return -b2i(a < b) }},
		{"ge_s", []int{1, 2, 4, 8}, func(a, b int64, _, _ uint64, _ int) int64 { return -b2i(a >= b) }},
		{"gt_u", []int{1, 2, 4}, func(_, _ int64, a, b uint64, _ int) int64 { return -b2i(a > b) }},
		{"le_u", []int{1, 2, 4}, func(_, _ int64, a, b uint64, _ int) int64 { return -b2i(a <= b) }},
		{"abs", []int{1, 2, 4, 8}, func(a, _ int64, _, _ uint64, _ int) int64 { return max(a, -a) }},
		{"neg", []int{1, 2, 4, 8}, func(a, _ int64, _, _ uint64, _ int) int64 { return -a }},
	}
	impl := map[string][]any{ // by width 1, 2, 4, 8
		"add":       {I8x16Add, I16x8Add, I32x4Add, I64x2Add},
		"sub":       {I8x16Sub, I16x8Sub, I32x4Sub, I64x2Sub},
		"mul":       {nil, I16x8Mul, I32x4Mul, I64x2Mul},
		"min_s":     {I8x16MinS, I16x8MinS, I32x4MinS},
		"max_s":     {I8x16MaxS, I16x8MaxS, I32x4MaxS},
		"min_u":     {I8x16MinU, I16x8MinU, I32x4MinU},
		"max_u":     {I8x16MaxU, I16x8MaxU, I32x4MaxU},
		"avgr_u":    {I8x16AvgrU, I16x8AvgrU},
		"add_sat_s": {I8x16AddSatS, I16x8AddSatS},
		"sub_sat_s": {I8x16SubSatS, I16x8SubSatS},
		"add_sat_u": {I8x16AddSatU, I16x8AddSatU},
		"sub_sat_u": {I8x16SubSatU, I16x8SubSatU},
		"eq":        {I8x16Eq, I16x8Eq, I32x4Eq, I64x2Eq},
		"ne":        {I8x16Ne, I16x8Ne, I32x4Ne, I64x2Ne},
		"lt_s":      {I8x16LtS, I16x8LtS, I32x4LtS, I64x2LtS},
		"ge_s":      {I8x16GeS, I16x8GeS, I32x4GeS, I64x2GeS},
		"gt_u":      {I8x16GtU, I16x8GtU, I32x4GtU},
		"le_u":      {I8x16LeU, I16x8LeU, I32x4LeU},
		"abs":       {I8x16Abs, I16x8Abs, I32x4Abs, I64x2Abs},
		"neg":       {I8x16Neg, I16x8Neg, I32x4Neg, I64x2Neg},
	}
	var ps []property
	for _, o := range ops {
		for _, n := range o.widths {
			fn := impl[o.name][map[int]int{1: 0, 2: 1, 4: 2, 8: 3}[n]]
			var got func(x, y V128) V128
			switch f := fn.(type) {
			case func(V128, V128) V128:
				got = f
			case func(V128) V128:
				got = unary(f)
			}
			f, n := o.f, n
			ps = append(ps, property{
				name: o.name + "/" + string(rune('0'+n)),
				got:  got,
				want: perLane(n, func(a, b uint64) uint64 { return uint64(f(signed(a, n), signed(b, n), a, b, n)) }),
			})
		}
	}
	// Shifts, with the count taken from y's low lane (random, often large).
	shifts := [][3]func(V128, uint32) V128{
		{I8x16Shl, I8x16ShrS, I8x16ShrU}, {I16x8Shl, I16x8ShrS, I16x8ShrU},
		{I32x4Shl, I32x4ShrS, I32x4ShrU}, {I64x2Shl, I64x2ShrS, I64x2ShrU},
	}
	for i, n := range []int{1, 2, 4, 8} {
		for k, f := range shifts[i] {
			f, n, k := f, n, k
			ps = append(ps, property{
				name: "shift" + string(rune('0'+k)) + "/" + string(rune('0'+n)),
				got:  func(x, y V128) V128 { return f(x, uint32(y.Lo)) },
				want: func(x, y V128) V128 {
					c := uint32(y.Lo) % uint32(8*n)
					return perLane(n, func(a, _ uint64) uint64 {
						switch k {
						case 0:
							return a << c
						case 1:
							return uint64(signed(a, n) >> c)
						}
						return a >> c
					})(x, y)
				},
			})
		}
	}
	return ps
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// intProps are checked by checkAll with the others.
var intProps = intProperties()
