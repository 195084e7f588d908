// goprog is the Go (GOOS=wasip1) program of the checkpoint-anywhere test:
// a pipeline of goroutines connected by channels (a generator, workers
// counting words into their own maps, a merger guarded by a mutex, all
// joined with a sync.WaitGroup), whose results are printed in a
// deterministic order whatever the schedule, with progress on stderr and
// a non-zero exit status.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

var words = []string{"ferry", "wasm", "pause", "point", "frame", "stack", "memory", "restore", "arm64", "amd64"}

func main() {
	const workers, batches = 4, 60
	jobs := make(chan []string)
	results := make(chan map[string]int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts := map[string]int{}
			for batch := range jobs {
				for _, word := range batch {
					counts[word]++
				}
			}
			results <- counts
		}()
	}
	go func() {
		x := uint32(12345)
		for b := 0; b < batches; b++ {
			batch := make([]string, 0, 40)
			for i := 0; i < 40; i++ {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				batch = append(batch, words[x%uint32(len(words))]+strings.Repeat("!", int(x>>29)%2))
			}
			jobs <- batch
			if b%20 == 19 {
				fmt.Fprintf(os.Stderr, "sent %d batches\n", b+1)
			}
		}
		close(jobs)
	}()
	go func() { wg.Wait(); close(results) }()

	var mu sync.Mutex
	total := map[string]int{}
	var merged sync.WaitGroup
	for counts := range results {
		merged.Add(1)
		go func(c map[string]int) {
			defer merged.Done()
			mu.Lock()
			defer mu.Unlock()
			for k, v := range c {
				total[k] += v
			}
		}(counts)
	}
	merged.Wait()

	keys := make([]string, 0, len(total))
	for k := range total {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sum := 0
	for _, k := range keys {
		fmt.Printf("%-10s %d\n", k, total[k])
		sum += total[k]
	}
	// A map of maps built and consumed across goroutines again.
	squares := make(chan [2]int)
	go func() {
		for i := 0; i < 300; i++ {
			squares <- [2]int{i, i * i % 97}
		}
		close(squares)
	}()
	byRem := map[int]map[int]bool{}
	for sq := range squares {
		if byRem[sq[1]] == nil {
			byRem[sq[1]] = map[int]bool{}
		}
		byRem[sq[1]][sq[0]] = true
	}
	fmt.Printf("words %d distinct %d residues %d\n", sum, len(keys), len(byRem))
	fmt.Fprintln(os.Stderr, "done")
	os.Exit(sum%7 + 1)
}
