//go:build amd64 && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package native

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

func mapProg(t *testing.T, a *Allocator, p *prog) *Unit {
	t.Helper()
	u, err := a.Map(p.bytes())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Free() })
	return u
}

func newAlloc() *Allocator { return NewAllocator(1 << 20) }

func TestBlockOffsetsMatchConstants(t *testing.T) {
	var b block
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"stack", unsafe.Offsetof(b.stack), OffStack},
		{"memory", unsafe.Offsetof(b.memory), OffMemory},
		{"budget", unsafe.Offsetof(b.budget), OffBudget},
		{"exit", unsafe.Offsetof(b.exit), OffExit},
		{"exitArg", unsafe.Offsetof(b.exitArg), OffExitArg},
		{"resume", unsafe.Offsetof(b.resume), OffResume},
		{"entrySP", unsafe.Offsetof(b.entrySP), OffEntrySP},
		{"entryBP", unsafe.Offsetof(b.entryBP), OffEntryBP},
		{"stackLen", unsafe.Offsetof(b.stackLen), OffStackLen},
		{"memLen", unsafe.Offsetof(b.memLen), OffMemLen},
		{"frame", unsafe.Offsetof(b.frame), OffFrame},
		{"globals", unsafe.Offsetof(b.globals), OffGlobals},
		{"aux", unsafe.Offsetof(b.aux), OffAux},
		{"funcs", unsafe.Offsetof(b.funcs), OffFuncs},
		{"depth", unsafe.Offsetof(b.depth), OffDepth},
		{"depthMax", unsafe.Offsetof(b.depthMax), OffDepthMax},
		{"calls", unsafe.Offsetof(b.calls), OffCalls},
	} {
		if c.got != c.want {
			t.Errorf("block.%s at %d, constant says %d", c.name, c.got, c.want)
		}
		if c.want > 127 {
			t.Errorf("block.%s at %d does not fit a disp8", c.name, c.want)
		}
	}
	var c Context
	if unsafe.Pointer(&c) != unsafe.Pointer(&c.blk) {
		t.Error("the block is not at the start of Context")
	}
}

// TestEnterReturnRoundTrip enters code that reads slot 0, writes slot 0+1
// to slot 1 and returns. On the way it clobbers RBP, R14 (g), R15 and X15
// (Go's zero register): the exit must restore RBP and the ABI wrapper R14
// and X15, which the Go code after it (allocation, GC, maps) relies on.
func TestEnterReturnRoundTrip(t *testing.T) {
	p := newProg().
		raw(0x31, 0xED).                    // xor ebp, ebp
		raw(0x45, 0x31, 0xF6).              // xor r14d, r14d
		raw(0x49, 0xC7, 0xC7).imm32(12345). // mov r15, 12345
		raw(0x66, 0x45, 0x0F, 0x76, 0xFF).  // pcmpeqd xmm15, xmm15
		load(rax, 0).
		raw(0x48, 0xFF, 0xC0). // inc rax
		store(1, rax).
		exit(ExitReturn, 0)
	u := mapProg(t, newAlloc(), p)
	c := NewContext()
	c.SetStack([]uint64{41, 0})
	for i := range 3 {
		e, err := u.Enter(c, 0)
		if err != nil {
			t.Fatal(err)
		}
		if e != (Exit{Kind: ExitReturn}) {
			t.Fatalf("exit %v, want return", e)
		}
		if got := c.Stack()[1]; got != 42 {
			t.Fatalf("entry %d: slot 1 = %d, want 42", i, got)
		}
		if c.Continuation() != 0 {
			t.Fatalf("a return left continuation %#x", c.Continuation())
		}
		// Go code that needs g, a zero X15 and the frame-pointer chain.
		m := map[string][]float64{}
		for j := range 100 {
			m[fmt.Sprint(j)] = make([]float64, j)
		}
		runtime.GC()
		var zero [64]byte
		if zero != [64]byte{} || len(m) != 100 {
			t.Fatal("Go state damaged after an exit")
		}
		c.Stack()[1] = 0
	}
}

// sumProg adds slots 3..3+n-1 (n in slot 2) into slot 1, slot 0 the
// index. The index and sum live in RAX and RCX across the loop's
// back-edge; only the budget exit spills them, and its continuation
// reloads them, as compiled code does at a pause point.
func sumProg() *prog {
	p := newProg().
		load(rax, 0).load(rcx, 1).load(rdx, 2).
		label("loop").
		raw(0x48, 0x39, 0xD0).             // cmp rax, rdx
		rel32("done", 0x0F, 0x83).         // jae done
		raw(0x49, 0x03, 0x4C, 0xC4, 0x18). // add rcx, [r12+rax*8+24]
		raw(0x48, 0xFF, 0xC0).             // inc rax
		poll("budget").
		rel32("loop", 0xE9). // jmp loop
		label("budget").
		store(0, rax).store(1, rcx).
		exitTo(ExitBudget, 0, "resume").
		label("resume").
		load(rax, 0).load(rcx, 1).load(rdx, 2).
		rel32("loop", 0xE9). // jmp loop
		label("done").
		store(0, rax).store(1, rcx).
		exit(ExitReturn, 0)
	return p
}

func sumStack(vals []uint64) []uint64 {
	s := make([]uint64, 3+len(vals))
	s[2] = uint64(len(vals))
	copy(s[3:], vals)
	return s
}

// runSum runs the sum to its end, refilling the budget at every budget
// exit, and returns the number of budget exits.
func runSum(u *Unit, c *Context, budget int64) (int, error) {
	c.SetBudget(budget)
	e, err := u.Enter(c, 0)
	exits := 0
	for err == nil && e.Kind == ExitBudget {
		exits++
		c.SetBudget(budget)
		e, err = u.Continue(c)
	}
	if err == nil && e.Kind != ExitReturn {
		err = fmt.Errorf("exit %v", e)
	}
	return exits, err
}

func TestBudgetExitsAndContinues(t *testing.T) {
	u := mapProg(t, newAlloc(), sumProg())
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]uint64, 100_000)
	var want uint64
	for i := range vals {
		vals[i] = r.Uint64() >> 20
		want += vals[i]
	}
	for _, budget := range []int64{0, 1, 999, 1 << 40} {
		c := NewContext()
		c.SetStack(sumStack(vals))
		exits, err := runSum(u, c, budget)
		if err != nil {
			t.Fatalf("budget %d: %v", budget, err)
		}
		if got := c.Stack()[1]; got != want {
			t.Fatalf("budget %d: sum %d, want %d", budget, got, want)
		}
		// A budget of b runs b polls and exits at the next one.
		if wantExits := len(vals) / int(min(budget+1, 1<<30)); exits != wantExits {
			t.Errorf("budget %d: %d budget exits, want %d", budget, exits, wantExits)
		}
	}
}

func divProg() *prog {
	return newProg().
		load(rax, 0).
		raw(0x48, 0x85, 0xC0).     // test rax, rax
		rel32("trap", 0x0F, 0x84). // jz trap
		load(rax, 1).
		raw(0x31, 0xD2).                   // xor edx, edx
		raw(0x49, 0xF7, 0x74, 0x24, 0x00). // div qword [r12]
		store(2, rax).
		exit(ExitReturn, 0).
		label("trap").
		exit(ExitTrap, 7)
}

func TestTrapExit(t *testing.T) {
	u := mapProg(t, newAlloc(), divProg())
	c := NewContext()
	c.SetStack([]uint64{6, 42, 0})
	if e, err := u.Enter(c, 0); err != nil || e != (Exit{Kind: ExitReturn, Arg: 0}) || c.Stack()[2] != 7 {
		t.Fatalf("42/6: exit %v, err %v, slot 2 = %d", e, err, c.Stack()[2])
	}
	c.SetStack([]uint64{0, 42, 0})
	e, err := u.Enter(c, 0)
	if err != nil || e != (Exit{Kind: ExitTrap, Arg: 7}) {
		t.Fatalf("42/0: exit %v, err %v; want trap(7)", e, err)
	}
	if _, err := u.Continue(c); !errors.Is(err, ErrBadEntry) {
		t.Fatalf("continuing after a trap: %v, want ErrBadEntry", err)
	}
}

func TestHostCallExitContinues(t *testing.T) {
	p := newProg().
		exitTo(ExitHostCall, 5, "after").
		label("after").
		load(rax, 0).
		raw(0x48, 0xFF, 0xC0). // inc rax
		store(0, rax).
		exit(ExitReturn, 0)
	u := mapProg(t, newAlloc(), p)
	c := NewContext()
	c.SetStack([]uint64{20})
	e, err := u.Enter(c, 0)
	if err != nil || e != (Exit{Kind: ExitHostCall, Arg: 5}) {
		t.Fatalf("exit %v, err %v; want host call(5)", e, err)
	}
	c.Stack()[0] *= 2 // the host function
	if e, err = u.Continue(c); err != nil || e.Kind != ExitReturn {
		t.Fatalf("exit %v, err %v; want return", e, err)
	}
	if got := c.Stack()[0]; got != 41 {
		t.Fatalf("slot 0 = %d, want 41", got)
	}
}

// growProg asks for 1000 value-stack slots, then copies slot 0 to slot
// 998 and writes 12345 to slot 999.
func growProg() *prog {
	return newProg().
		label("check").
		raw(0x48, 0x81, 0x7B, OffStackLen).imm32(1000).        // cmp qword [rbx+OffStackLen], 1000
		rel32("grow", 0x0F, 0x82).                             // jb grow
		raw(0x49, 0xC7, 0x84, 0x24).imm32(999*8).imm32(12345). // mov qword [r12+7992], 12345
		load(rax, 0).
		raw(0x49, 0x89, 0x84, 0x24).imm32(998*8). // mov [r12+7984], rax
		exit(ExitReturn, 0).
		label("grow").
		exitTo(ExitGrowStack, 1000, "check")
}

// TestGrowStackMovesTheStack: the code asks for 1000 slots, Go moves the
// stack to a new array and continues; the continuation must address the
// new array (the trampoline reloads R12 at every entry).
func TestGrowStackMovesTheStack(t *testing.T) {
	p := growProg()
	u := mapProg(t, newAlloc(), p)
	c := NewContext()
	old := make([]uint64, 10)
	old[0] = 77
	c.SetStack(old)
	e, err := u.Enter(c, 0)
	if err != nil || e != (Exit{Kind: ExitGrowStack, Arg: 1000}) {
		t.Fatalf("exit %v, err %v; want grow stack(1000)", e, err)
	}
	grown := make([]uint64, 1024)
	copy(grown, c.Stack())
	c.SetStack(grown)
	if e, err = u.Continue(c); err != nil || e.Kind != ExitReturn {
		t.Fatalf("exit %v, err %v; want return", e, err)
	}
	if grown[999] != 12345 || grown[998] != 77 {
		t.Fatalf("grown stack slots 998, 999 = %d, %d; want 77, 12345", grown[998], grown[999])
	}
	for i, v := range old[1:] {
		if v != 0 {
			t.Fatalf("old stack slot %d written after the move: %d", i+1, v)
		}
	}
}

func TestBadExitsAreErrors(t *testing.T) {
	a := newAlloc()
	// ret without storing an exit kind.
	bare := mapProg(t, a, newProg().raw(0xC3))
	c := NewContext()
	if _, err := bare.Enter(c, 0); !errors.Is(err, ErrBadExit) {
		t.Errorf("bare ret: %v, want ErrBadExit", err)
	}
	unknown := mapProg(t, a, newProg().exit(ExitKind(99), 0))
	if _, err := unknown.Enter(c, 0); !errors.Is(err, ErrBadExit) {
		t.Errorf("exit kind 99: %v, want ErrBadExit", err)
	}
	for _, off := range []int{-1, bare.Len(), 1 << 40} {
		if _, err := bare.Enter(c, off); !errors.Is(err, ErrBadEntry) {
			t.Errorf("offset %d: %v, want ErrBadEntry", off, err)
		}
	}
	// A continuation in another unit is refused.
	host := mapProg(t, a, newProg().exitTo(ExitHostCall, 0, "end").label("end").exit(ExitReturn, 0))
	if e, err := host.Enter(c, 0); err != nil || e.Kind != ExitHostCall {
		t.Fatalf("exit %v, err %v", e, err)
	}
	if _, err := bare.Continue(c); !errors.Is(err, ErrBadEntry) {
		t.Errorf("continuation of another unit: %v, want ErrBadEntry", err)
	}
	c.running.Store(true)
	if _, err := host.Continue(c); !errors.Is(err, ErrContextBusy) {
		t.Errorf("busy context: %v, want ErrContextBusy", err)
	}
}

func TestAllocatorCapAndFree(t *testing.T) {
	a := NewAllocator(2 * pageSize)
	u1, err := a.Map([]byte{0xC3})
	if err != nil {
		t.Fatal(err)
	}
	if a.Used() != pageSize {
		t.Fatalf("used %d after one byte, want a page (%d)", a.Used(), pageSize)
	}
	if _, err := a.Map(make([]byte, pageSize+1)); !errors.Is(err, ErrCodeLimit) {
		t.Fatalf("over the cap: %v, want ErrCodeLimit", err)
	}
	if _, err := a.Map(nil); err == nil {
		t.Fatal("empty code mapped")
	}
	u2, err := a.Map(make([]byte, pageSize))
	if err != nil {
		t.Fatalf("filling the cap exactly: %v", err)
	}
	if err := u1.Free(); err != nil {
		t.Fatal(err)
	}
	if err := u1.Free(); !errors.Is(err, ErrUnitFreed) {
		t.Fatalf("second free: %v, want ErrUnitFreed", err)
	}
	if _, err := u1.Enter(NewContext(), 0); !errors.Is(err, ErrUnitFreed) {
		t.Fatalf("entering a freed unit: %v, want ErrUnitFreed", err)
	}
	if u1.Addr() != 0 {
		t.Fatal("a freed unit still has an address")
	}
	if err := u2.Free(); err != nil {
		t.Fatal(err)
	}
	if a.Used() != 0 {
		t.Fatalf("used %d after freeing everything", a.Used())
	}
	u1.state.Store(1) // as if code ran in it
	u3, _ := a.Map([]byte{0xC3})
	u3.state.Store(1)
	if err := u3.Free(); !errors.Is(err, ErrUnitBusy) {
		t.Fatalf("freeing a running unit: %v, want ErrUnitBusy", err)
	}
	u3.state.Store(0)
	_ = u3.Free()
}

// TestCodeIsNeverWritable reads the unit's mapping from /proc/self/maps:
// read-execute, not writable.
func TestCodeIsNeverWritable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/maps")
	}
	u := mapProg(t, newAlloc(), newProg().exit(ExitReturn, 0))
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		var lo, hi uintptr
		var perms string
		if _, err := fmt.Sscanf(s.Text(), "%x-%x %s", &lo, &hi, &perms); err != nil {
			continue
		}
		if u.Addr() >= lo && u.Addr() < hi {
			if perms[:3] != "r-x" {
				t.Fatalf("code mapped %s, want r-x", perms)
			}
			return
		}
	}
	t.Fatal("unit not found in /proc/self/maps")
}

// TestConcurrentEntriesAndFree: many goroutines enter one unit with their
// own contexts, exiting on small budgets, while another goroutine keeps
// trying to free it. Free must never unmap code that runs (that would be
// a SIGSEGV); after it succeeds, entries fail cleanly. Run under -race.
func TestConcurrentEntriesAndFree(t *testing.T) {
	u, err := newAlloc().Map(sumProg().bytes())
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]uint64, 2000)
	var want uint64
	for i := range vals {
		vals[i] = uint64(i * 3)
		want += vals[i]
	}
	const workers, rounds = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			<-start
			c := NewContext()
			for r := range rounds {
				c.SetStack(sumStack(vals))
				if _, err := runSum(u, c, int64(37+w)); err != nil {
					if errors.Is(err, ErrUnitFreed) {
						return
					}
					errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
					return
				}
				if got := c.Stack()[1]; got != want {
					errs <- fmt.Errorf("worker %d round %d: sum %d, want %d", w, r, got, want)
					return
				}
			}
		})
	}
	freed := make(chan error, 1)
	go func() {
		<-start
		time.Sleep(20 * time.Millisecond)
		for {
			err := u.Free()
			if !errors.Is(err, ErrUnitBusy) {
				freed <- err
				return
			}
			runtime.Gosched()
		}
	}()
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := <-freed; err != nil {
		t.Fatalf("free: %v", err)
	}
}

// countdownProg decrements slot 0 to zero, polling the budget at every
// back-edge: a long loop that holds the CPU between exits.
func countdownProg() *prog {
	return newProg().
		load(rax, 0).
		label("loop").
		raw(0x48, 0xFF, 0xC8).     // dec rax
		rel32("done", 0x0F, 0x84). // jz done
		poll("budget").
		rel32("loop", 0xE9). // jmp loop
		label("budget").
		store(0, rax).
		exitTo(ExitBudget, 0, "resume").
		label("resume").
		load(rax, 0).
		rel32("loop", 0xE9). // jmp loop
		label("done").
		store(0, rax).
		exit(ExitReturn, 0)
}

func countdown(u *Unit, n uint64, budget int64) error {
	c := NewContext()
	c.SetStack([]uint64{n})
	c.SetBudget(budget)
	e, err := u.Enter(c, 0)
	for err == nil && e.Kind == ExitBudget {
		c.SetBudget(budget)
		e, err = u.Continue(c)
	}
	if err == nil && (e.Kind != ExitReturn || c.Stack()[0] != 0) {
		err = fmt.Errorf("exit %v, slot 0 = %d", e, c.Stack()[0])
	}
	return err
}

// gcPauseMax returns the upper bound of the largest stop-the-world GC
// pause recorded between two reads of /sched/pauses/total/gc:seconds.
func gcPauseMax(before, after *metrics.Float64Histogram) float64 {
	top := 0.0
	for i := range after.Counts {
		if after.Counts[i] > before.Counts[i] {
			top = after.Buckets[i+1]
		}
	}
	return top
}

func readPauses() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64Histogram()
}

// TestLongLoopLetsGCStopTheWorld runs a countdown of several hundred
// milliseconds while another goroutine forces collections. Go cannot
// preempt generated code, so a stop-the-world waits for the next budget
// exit; with a budget of 2^16 polls collections complete while the loop
// runs, and the longest pause stays far below the loop's length.
func TestLongLoopLetsGCStopTheWorld(t *testing.T) {
	u := mapProg(t, newAlloc(), countdownProg())
	r := loopUnderGC(t, u, 1<<16)
	t.Logf("budget 2^16: loop %v, %d forced GCs completed during it, max GC pause <= %v", r.loop, r.during, r.maxPause)
	if r.during < 2 {
		t.Fatalf("%d collections completed during a %v loop", r.during, r.loop)
	}
	// Without exits the pause is the rest of the loop (the control
	// below); half the loop leaves room for a loaded or emulated CPU.
	if r.maxPause > r.loop/2 {
		t.Fatalf("max GC pause %v during a %v loop", r.maxPause, r.loop)
	}
}

// TestLongLoopWithoutBudgetBlocksGC is the control of the test above: a
// loop that never exits holds the world, so no collection requested
// during it completes before it ends. It shows the budget exits are what
// makes the test above pass.
func TestLongLoopWithoutBudgetBlocksGC(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a CPU for the whole loop")
	}
	u := mapProg(t, newAlloc(), countdownProg())
	r := loopUnderGC(t, u, 1<<62)
	t.Logf("no budget exits: loop %v, %d forced GCs completed during it, max GC pause <= %v", r.loop, r.during, r.maxPause)
	if r.during != 0 {
		t.Fatalf("%d collections completed during a loop that never exits", r.during)
	}
}

const loopIterations = 600_000_000 // 0.2-0.6 s natively

type gcRun struct {
	loop     time.Duration // wall time of the countdown
	during   int           // collections that completed well before it ended
	maxPause time.Duration // upper bound of the largest STW pause
}

func loopUnderGC(t *testing.T, u *Unit, budget int64) gcRun {
	before := readPauses()
	done := make(chan struct{})
	ends := make(chan []time.Time)
	go func() {
		var at []time.Time
		time.Sleep(10 * time.Millisecond)
		for {
			select {
			case <-done:
				ends <- at
				return
			default:
				runtime.GC()
				at = append(at, time.Now())
				time.Sleep(time.Millisecond)
			}
		}
	}()
	start := time.Now()
	err := countdown(u, loopIterations, budget)
	end := time.Now()
	close(done)
	at := <-ends
	if err != nil {
		t.Fatal(err)
	}
	// A collection blocked by the loop completes just after it: only
	// those that completed clearly before its end count.
	r := gcRun{loop: end.Sub(start), maxPause: time.Duration(gcPauseMax(before, readPauses()) * float64(time.Second))}
	for _, a := range at {
		if a.Before(end.Add(-50 * time.Millisecond)) {
			r.during++
		}
	}
	return r
}

// TestCPUProfileDuringGeneratedCode profiles a long loop in generated
// code. SIGPROF lands mostly in the unit, where Go's traceback finds no
// function: the sample must be charged to runtime._ExternalCode (proc.go,
// sigprof) instead of crashing the process.
func TestCPUProfileDuringGeneratedCode(t *testing.T) {
	u := mapProg(t, newAlloc(), countdownProg())
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skip("profiler busy:", err)
	}
	err := countdown(u, loopIterations, 1<<16)
	pprof.StopCPUProfile()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "runtime._ExternalCode") {
		t.Fatal("no sample charged to runtime._ExternalCode")
	}
}

// TestStressEntriesUnderGCAndProfiler: goroutines enter and leave
// generated code through budget, return and stack-growth exits
// while another goroutine forces collections and the CPU profiler runs.
// Every result must be exact; nothing may crash or hang. Run under -race.
func TestStressEntriesUnderGCAndProfiler(t *testing.T) {
	a := newAlloc()
	sum, grow, count := mapProg(t, a, sumProg()), mapProg(t, a, growProg()), mapProg(t, a, countdownProg())
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err == nil {
		defer pprof.StopCPUProfile()
	}
	done := make(chan struct{})
	var gcs sync.WaitGroup
	gcs.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
				runtime.GC()
			}
		}
	})
	vals := make([]uint64, 5000)
	var want uint64
	for i := range vals {
		vals[i] = uint64(i) * 7
		want += vals[i]
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 6 {
		wg.Go(func() {
			c := NewContext()
			for r := range 30 {
				c.SetStack(sumStack(vals))
				if _, err := runSum(sum, c, int64(11+w)); err != nil || c.Stack()[1] != want {
					errs <- fmt.Errorf("worker %d round %d: sum %d, err %v", w, r, c.Stack()[1], err)
					return
				}
				c.SetStack([]uint64{uint64(r)})
				e, err := grow.Enter(c, 0)
				for err == nil && e.Kind == ExitGrowStack {
					s := make([]uint64, e.Arg)
					copy(s, c.Stack())
					c.SetStack(s)
					e, err = grow.Continue(c)
				}
				if err != nil || e.Kind != ExitReturn || c.Stack()[998] != uint64(r) || c.Stack()[999] != 12345 {
					errs <- fmt.Errorf("worker %d round %d: grow exit %v, err %v", w, r, e, err)
					return
				}
				if err := countdown(count, 1_000_000, 1<<10); err != nil {
					errs <- fmt.Errorf("worker %d round %d: countdown: %v", w, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	gcs.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestRequestExitStopsALoop: another goroutine asks a loop with an
// unbounded budget to exit, as a checkpoint request does. The request is
// repeated until seen, since one can be lost to the code's
// read-modify-write of the budget (docs/native.md).
func TestRequestExitStopsALoop(t *testing.T) {
	u := mapProg(t, newAlloc(), countdownProg())
	c := NewContext()
	c.SetStack([]uint64{loopIterations})
	c.SetBudget(1 << 62)
	var stopped atomic.Bool
	go func() {
		time.Sleep(20 * time.Millisecond)
		for !stopped.Load() {
			c.RequestExit()
			time.Sleep(time.Millisecond)
		}
	}()
	e, err := u.Enter(c, 0)
	stopped.Store(true)
	if err != nil || e.Kind != ExitBudget {
		t.Fatalf("exit %v, err %v; want budget", e, err)
	}
	left := c.Stack()[0]
	if left == 0 || left >= loopIterations {
		t.Fatalf("counter %d after the request", left)
	}
	c.SetBudget(1 << 62)
	if e, err = u.Continue(c); err != nil || e.Kind != ExitReturn || c.Stack()[0] != 0 {
		t.Fatalf("after the request: exit %v, err %v, counter %d", e, err, c.Stack()[0])
	}
}
