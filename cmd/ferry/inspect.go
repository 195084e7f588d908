package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ferryvm/ferry"
)

const inspectUsage = `usage: ferry inspect [--json] [--trust-key FILE]... CHECKPOINT

Prints what a checkpoint holds: format and runtime versions, the source CPU,
the module's SHA-256 (and whether the module is included), the pause count,
the frames (function index and name, pause kind, byte offset), globals,
table and memory sizes (and how many 4 KiB pages are stored), dropped
segments, the WASI state (arguments, environment, descriptors), the
builtin decisions of the run (each builtin's implementation, the CPU
features it relies on, whether it is semantic), the file's sections, and
its signature: unsigned, or signed by which key id, and whether this host
trusts that key (as "ferry restore" would: this user's own key, the
configuration directory's trusted/ keys, --trust-key). The checkpoint is
checked as a restore would read it; nothing runs. Every string the file
records (paths, names, arguments, environment) is printed escaped, Go
style ("\x1b", "\r"), when it holds anything but printable characters, so
that no byte of a file reaches the terminal as a control sequence.

Flags:
  --json          print the same as one JSON object
  --trust-key FILE
                  also trust the key in FILE. Repeatable.

Exit codes: 0, 1 for a damaged or foreign file, 2 for usage errors and a
CHECKPOINT that cannot be read.
`

func runInspect(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	var trustFiles listFlag
	fs.Var(&trustFiles, "trust-key", "trust checkpoints signed by the key in FILE")
	if code, done := parseFlagsAnywhere(fs, args, inspectUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, inspectUsage, "inspect: want exactly one CHECKPOINT")
	}
	trust, err := trustedKeys(trustFiles)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: inspect: %v\n", err)
		return exitUsage
	}
	ck, err := ferry.OpenCheckpointWith(fs.Arg(0), trust)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: inspect: %v\n", err)
		return openFailure(err)
	}
	defer ck.Close()
	if err := ck.Verify(); err != nil {
		fmt.Fprintf(stderr, "ferry: inspect: %s: %v\n", fs.Arg(0), err)
		return exitFail
	}
	info := ck.Info()
	sig := ck.Signature()
	if *asJSON {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			ferry.CheckpointInfo
			Signature ferry.SignatureInfo `json:"signature"`
		}{info, sig}); err != nil {
			fmt.Fprintf(stderr, "ferry: inspect: %v\n", err)
			return exitFail
		}
		stdout.Write(escapeJSON(buf.Bytes()))
		return exitOK
	}
	escapeInfo(&info)
	printInfo(stdout, &info, sig)
	return exitOK
}

func printSignature(w io.Writer, sig ferry.SignatureInfo) {
	if !sig.Signed {
		fmt.Fprintln(w, "signature    none: restoring it grants only --dir and --tcplisten")
		return
	}
	for _, k := range sig.Signatures {
		trust := "not trusted by this host, so not verified (restoring it grants only --dir and --tcplisten)"
		if sig.Trusted && k.KeyID == sig.TrustedKeyID {
			trust = "verified, trusted by this host"
		}
		fmt.Fprintf(w, "signature    %s key %s, %s\n", k.Algorithm, k.KeyID, trust)
	}
}

// esc returns s as it is when it holds only printable characters (and no
// quote or backslash, which would make an escaped string ambiguous), else
// quoted and escaped: a checkpoint's strings are the writer's, and a CR,
// an ESC sequence or a right-to-left override could otherwise rewrite
// what the terminal shows (hide a forged pre-open, say).
func esc(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || r == '"' || r == '\\' || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func escAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = esc(s)
	}
	return out
}

// escapeInfo escapes every string the file recorded, for printing.
func escapeInfo(info *ferry.CheckpointInfo) {
	info.RuntimeVersion, info.Arch = esc(info.RuntimeVersion), esc(info.Arch)
	info.CPUFeatures = escAll(info.CPUFeatures)
	for i := range info.Frames {
		info.Frames[i].Name = esc(info.Frames[i].Name)
	}
	if wi := info.WASI; wi != nil {
		for i := range wi.Descriptors {
			d := &wi.Descriptors[i]
			d.Preopen, d.GuestPath, d.HostPath, d.Addr = esc(d.Preopen), esc(d.GuestPath), esc(d.HostPath), esc(d.Addr)
		}
	}
	if p := info.Profile; p != nil {
		for i := range p.Funcs {
			p.Funcs[i].Name = esc(p.Funcs[i].Name)
		}
	}
	for i := range info.HostStates {
		info.HostStates[i].Name = esc(info.HostStates[i].Name)
	}
	for i := range info.Callsites {
		d := &info.Callsites[i]
		d.Builtin, d.Impl, d.Semantics = esc(d.Builtin), esc(d.Impl), esc(d.Semantics)
		d.Features = escAll(d.Features)
	}
}

// escapeJSON escapes, as \uXXXX, the characters encoding/json leaves as
// they are although a terminal may act on them: DEL, the C1 controls
// (U+009B is a CSI), format characters such as U+202E. They can only be
// inside strings, where the escape means the same character.
func escapeJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == '\n' || r == utf8.RuneError && n == 1 || strconv.IsPrint(r) {
			out = append(out, b[:n]...)
		} else {
			for _, u := range utf16.Encode([]rune{r}) {
				out = fmt.Appendf(out, "\\u%04x", u)
			}
		}
		b = b[n:]
	}
	return out
}

func printInfo(w io.Writer, info *ferry.CheckpointInfo, sig ferry.SignatureInfo) {
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
	printSignature(w, sig)
	if info.Idle {
		fmt.Fprintf(w, "\nframes       none: an idle checkpoint, between calls (restore it with Runtime.RestoreInstance)\n")
	} else {
		fmt.Fprintf(w, "\nframes (outermost first):\n")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !info.Idle {
		fmt.Fprintln(tw, "  #\tfunc\tname\tkind\toffset\tlocals\tstack")
	}
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
		if m.DataOmitted {
			fmt.Fprintf(w, "memory %d     %d pages (%d bytes), memory not included (restores only over its memory image)\n", i, m.Pages, m.Bytes)
			continue
		}
		if m.Chunks > 0 {
			how += fmt.Sprintf(", checkable in %d 1-MiB chunks", m.Chunks)
		}
		fmt.Fprintf(w, "memory %d     %d pages (%d bytes), %d 4-KiB pages stored (%s)\n", i, m.Pages, m.Bytes, m.StoredPages, how)
	}
	fmt.Fprintf(w, "dropped      %d data segments, %d element segments\n", info.DroppedData, info.DroppedElems)
	if wi := info.WASI; wi != nil {
		fmt.Fprintf(w, "\nWASI args    %q\n", wi.Args) // %q escapes as esc does
		fmt.Fprintf(w, "WASI env     %q\n", wi.Env)
		fmt.Fprintf(w, "clocks       monotonic %d ns, cpu %d ns\n", wi.MonotonicNs, wi.CPUTimeNs)
		// The headings use --dir's words: a restore grants each pre-open by
		// its GUEST path, and "guest path" for the path beneath it sent
		// users to pass that instead.
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  fd\tkind\tGUEST (pre-open)\tpath beneath it\tHOST path\toffset")
		var grants []string
		for _, d := range wi.Descriptors {
			host := d.HostPath
			if d.Addr != "" {
				host = d.Addr
			}
			if d.Kind == "preopen" {
				grants = append(grants, "--dir "+shellQuote(host)+"::"+shellQuote(d.Preopen))
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%d\n", d.FD, d.Kind, dash(d.Preopen), dash(d.GuestPath), dash(host), d.Offset)
		}
		tw.Flush()
		if len(grants) > 0 {
			fmt.Fprintf(w, "restore with  %s (each HOST may be another directory)\n", strings.Join(grants, " "))
		}
	}
	printDecisions(w, info)
	printProfile(w, info.Profile)
	printHostStates(w, info.HostStates)
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

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printProfile prints the hot set a profiled run recorded, which a restore
// compiles before it resumes: each function with its share of the samples
// and its hottest loops by header offset.
func printProfile(w io.Writer, p *ferry.ProfileInfo) {
	if p == nil {
		return
	}
	var total uint64
	for _, f := range p.Funcs {
		total += f.Samples
	}
	fmt.Fprintf(w, "\nprofile      %d hot functions, %d samples\n", len(p.Funcs), total)
	if len(p.Funcs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  func\tname\tsamples\tloops (offset: samples)")
	for _, f := range p.Funcs {
		loops := make([]string, len(f.Loops))
		for i, l := range f.Loops {
			loops[i] = fmt.Sprintf("0x%x: %d", l.Offset, l.Samples)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%d\t%s\n", f.Func, dash(f.Name), f.Samples, dash(strings.Join(loops, ", ")))
	}
	tw.Flush()
}

// printHostStates lists the host-state plug-ins' entries (section 14): a
// restore must be given a plug-in of each name (ferry restore gives none
// but WASI's, so such a checkpoint restores only through the Go API).
func printHostStates(w io.Writer, hs []ferry.HostStateInfo) {
	if len(hs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nhost state   %d plug-in entries (restored by the embedder's plug-ins)\n", len(hs))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  name\tversion\tbytes")
	for _, h := range hs {
		fmt.Fprintf(tw, "  %s\t%d\t%d\n", h.Name, h.Version, h.Size)
	}
	tw.Flush()
}
