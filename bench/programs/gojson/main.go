// Command gojson is a whole-program WASI benchmark in Go, built with
// GOOS=wasip1 GOARCH=wasm by ../build.sh. It generates records, encodes
// them to JSON, decodes them back, sorts them, hashes every stage with
// SHA-256 and prints the digests. It uses neither the clock nor randomness,
// so every runtime (and a native build: go run .) prints the same.
//
// Usage: gojson [N]   (N records, default 400)
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

type Point struct {
	X, Y int32
}

type Record struct {
	ID     uint32            `json:"id"`
	Name   string            `json:"name"`
	Email  string            `json:"email"`
	Score  float64           `json:"score"`
	Active bool              `json:"active"`
	Tags   []string          `json:"tags"`
	Path   []Point           `json:"path"`
	Attrs  map[string]string `json:"attrs,omitempty"`
}

var syllables = []string{"fe", "rry", "wa", "sm", "ri", "ver", "ha", "bour", "mo", "du", "le", "ta", "ble", "sta", "ck"}
var tagWords = []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"}

type rng uint32

func (r *rng) next() uint32 {
	x := uint32(*r)
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	*r = rng(x)
	return x
}

func gen(n int) []Record {
	r := rng(2463534242)
	recs := make([]Record, n)
	for i := range recs {
		var name strings.Builder
		for k := 2 + r.next()%3; k > 0; k-- {
			name.WriteString(syllables[r.next()%uint32(len(syllables))])
		}
		rec := Record{
			ID:     r.next(),
			Name:   name.String(),
			Score:  float64(int32(r.next()%2000000)-1000000) / 1024, // exact in binary
			Active: r.next()%3 != 0,
		}
		rec.Email = strings.ToLower(rec.Name) + "@" + strconv.Itoa(int(r.next()%100)) + ".example"
		for k := r.next() % 5; k > 0; k-- {
			rec.Tags = append(rec.Tags, tagWords[r.next()%uint32(len(tagWords))])
		}
		for k := 1 + r.next()%6; k > 0; k-- {
			rec.Path = append(rec.Path, Point{int32(r.next() % 10000), -int32(r.next() % 10000)})
		}
		if r.next()%4 == 0 {
			rec.Attrs = map[string]string{"k" + strconv.Itoa(int(r.next()%10)): "v\"\\\u00e9\u2603" + strconv.Itoa(i)}
		}
		recs[i] = rec
	}
	return recs
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return fmt.Sprintf("%x", s[:8])
}

func main() {
	n := 400
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil && v > 0 {
			n = v
		}
	}
	recs := gen(n)

	enc, err := json.Marshal(recs)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("encoded %d records: %d bytes sha256=%s\n", n, len(enc), digest(enc))

	var back []Record
	if err := json.Unmarshal(enc, &back); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var sumScore float64
	tags := map[string]int{}
	for _, r := range back {
		sumScore += r.Score
		for _, t := range r.Tags {
			tags[t]++
		}
	}
	fmt.Printf("decoded %d records: score sum %.3f, %d distinct tags, alpha=%d\n", len(back), sumScore, len(tags), tags["alpha"])

	sort.SliceStable(back, func(i, j int) bool {
		if back[i].Score != back[j].Score {
			return back[i].Score > back[j].Score
		}
		return back[i].Name < back[j].Name
	})
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetIndent("", " ")
	if err := e.Encode(back); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("sorted: first %q (%.3f), last %q (%.3f); indented %d bytes sha256=%s\n",
		back[0].Name, back[0].Score, back[n-1].Name, back[n-1].Score, buf.Len(), digest(buf.Bytes()))

	names := make([]string, n)
	for i, r := range back {
		names[i] = r.Name + "/" + strconv.FormatUint(uint64(r.ID), 36)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, s := range names {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	fmt.Printf("names sorted sha256=%x\n", h.Sum(nil)[:8])
}
