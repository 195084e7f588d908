// Command cpudrv times bench's kernels through Ferry's public API in thread
// CPU time (and wall time), pause polling on and off. It uses only API
// that every commit since issue 5 has, so that cpucompare.sh can build it
// against any of them: on a shared machine thread CPU time, unlike
// ferrybench's wall time, leaves out the time other processes take.
//
//	cpudrv [-n 5] [-kernels fib,sort] [-dir bench/kernels]
//
// prints one line per kernel and configuration:
//
//	fib ferry cpu <median ns> wall <median ns>
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ferryvm/ferry"
)

// threadCPU returns the calling thread's CPU time in nanoseconds.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// args are the arguments bench/kernels.go gives each kernel.
var args = map[string]uint64{"fib": 30, "sieve": 600000, "matmul": 128, "sha256": 1 << 18, "sort": 100000, "vm": 60000,
	"simd_matmul": 128, "simd_hist": 8, "simd_dot": 600, "simd_memchr": 300}

func median(x []int64) int64 {
	s := append([]int64(nil), x...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func main() {
	dir := flag.String("dir", "kernels", "directory of the kernels' .wasm files")
	n := flag.Int("n", 5, "timed calls per kernel and configuration, after one untimed")
	ks := flag.String("kernels", "fib,sieve,matmul,sha256,sort,vm,simd_matmul,simd_hist,simd_dot,simd_memchr", "comma-separated kernels")
	flag.Parse()
	// Thread CPU time measures this goroutine only while it keeps its
	// thread; Ferry's interpreter runs calls on the caller's goroutine.
	runtime.LockOSThread()
	ctx := context.Background()
	for _, k := range strings.Split(*ks, ",") {
		wasm, err := os.ReadFile(filepath.Join(*dir, k+".wasm"))
		if err != nil {
			panic(err)
		}
		for _, poll := range []bool{true, false} {
			r := ferry.NewRuntime(ferry.NewRuntimeConfig().WithPausePolling(poll))
			m, err := r.Compile(ctx, wasm)
			if err != nil {
				panic(err)
			}
			inst, err := r.Instantiate(ctx, m, "")
			if err != nil {
				panic(err)
			}
			f := inst.Function("run")
			var cpu, wall []int64
			for i := 0; i <= *n; i++ {
				t0, c0 := time.Now(), threadCPU()
				if _, err := f.Call(ctx, args[k]); err != nil {
					panic(err)
				}
				c1, t1 := threadCPU(), time.Since(t0)
				if i > 0 {
					cpu, wall = append(cpu, c1-c0), append(wall, int64(t1))
				}
			}
			name := "ferry"
			if !poll {
				name = "ferry-nopoll"
			}
			fmt.Printf("%s %s cpu %d wall %d\n", k, name, median(cpu), median(wall))
			_ = r.Close(ctx)
		}
	}
}
