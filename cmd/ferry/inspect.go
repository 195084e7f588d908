package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ferryvm/ferry"
)

const inspectUsage = `usage: ferry inspect [--json] CHECKPOINT

Prints what a checkpoint holds: format and runtime versions, the source CPU,
the module's SHA-256 (and whether the module is included), the pause count,
the frames (function index and name, pause kind, byte offset), globals,
table and memory sizes (and how many 4 KiB pages are stored), dropped
segments, the WASI state (arguments, environment, descriptors), the
builtin decisions of the run (each builtin's implementation, the CPU
features it relies on, whether it is semantic) and the file's sections. The checkpoint is checked as a restore would read it;
nothing runs.

Flags:
  --json          print the same as one JSON object

Exit codes: 0, 1 for a damaged or foreign file, 2 for usage errors.
`

func runInspect(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if code, done := parseFlags(fs, args, inspectUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, inspectUsage, "inspect: want exactly one CHECKPOINT")
	}
	ck, err := ferry.OpenCheckpoint(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "ferry: inspect: %v\n", err)
		return exitFail
	}
	defer ck.Close()
	if err := ck.Verify(); err != nil {
		fmt.Fprintf(stderr, "ferry: inspect: %s: %v\n", fs.Arg(0), err)
		return exitFail
	}
	info := ck.Info()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(info); err != nil {
			fmt.Fprintf(stderr, "ferry: inspect: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	printInfo(stdout, &info)
	return exitOK
}

func printInfo(w io.Writer, info *ferry.CheckpointInfo) {
	fmt.Fprintf(w, "format       %s\n", info.FormatVersion)
	fmt.Fprintf(w, "runtime      %s\n", info.RuntimeVersion)
	fmt.Fprintf(w, "source CPU   %s: %s\n", info.Arch, strings.Join(info.CPUFeatures, " "))
	included := "not included"
	if info.ModuleIncluded {
		included = "included"
	}
	fmt.Fprintf(w, "module       sha256 %s, %d bytes, %s\n", info.ModuleSHA256, info.ModuleSize, included)
	if info.PauseCountKnown {
		fmt.Fprintf(w, "pause point  %d\n", info.PauseCount)
	} else {
		fmt.Fprintf(w, "pause point  (not counted)\n")
	}
	fmt.Fprintf(w, "created      %s\n", info.Created.Format("2006-01-02 15:04:05.000 MST"))
	fmt.Fprintf(w, "\nframes (outermost first):\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tfunc\tname\tkind\toffset\tlocals\tstack")
	for i, f := range info.Frames {
		name := f.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\t0x%x\t%d\t%d\n", i, f.Func, name, f.Kind, f.Offset, f.Locals, f.Stack)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nglobals      %d\n", info.Globals)
	for i, t := range info.Tables {
		fmt.Fprintf(w, "table %d      %s, %d elements\n", i, t.ElemType, t.Size)
	}
	for i, m := range info.Memories {
		how := "mappable"
		if !m.Mappable {
			how = "compressed"
		}
		fmt.Fprintf(w, "memory %d     %d pages (%d bytes), %d 4-KiB pages stored (%s)\n", i, m.Pages, m.Bytes, m.StoredPages, how)
	}
	fmt.Fprintf(w, "dropped      %d data segments, %d element segments\n", info.DroppedData, info.DroppedElems)
	if wi := info.WASI; wi != nil {
		fmt.Fprintf(w, "\nWASI args    %q\n", wi.Args)
		fmt.Fprintf(w, "WASI env     %q\n", wi.Env)
		fmt.Fprintf(w, "clocks       monotonic %d ns, cpu %d ns\n", wi.MonotonicNs, wi.CPUTimeNs)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  fd\tkind\tpre-open\tguest path\thost path\toffset")
		for _, d := range wi.Descriptors {
			host := d.HostPath
			if d.Addr != "" {
				host = d.Addr
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%d\n", d.FD, d.Kind, dash(d.Preopen), dash(d.GuestPath), dash(host), d.Offset)
		}
		tw.Flush()
	}
	printDecisions(w, info)
	fmt.Fprintf(w, "\nsections:\n")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  type\toffset\tstored\tdecoded\t")
	for _, s := range info.Sections {
		note := ""
		if s.Compressed {
			note = "zstd"
		}
		if s.Skipped {
			note = "unknown, skipped"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%s\n", s.Type, s.Offset, s.Length, s.RawLength, note)
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
