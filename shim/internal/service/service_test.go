package service

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/events"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/runtime/v2/runc/options"
	taskapi "github.com/containerd/containerd/runtime/v2/task"
	"github.com/containerd/typeurl"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// recorder is a shim.Publisher that keeps the topics published.
type recorder struct {
	mu     sync.Mutex
	topics []string
	closed bool
}

func (r *recorder) Publish(ctx context.Context, topic string, event events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.topics = append(r.topics, topic)
	return nil
}

func (r *recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

// newTestTask creates a task from testdata/name in a fresh bundle, with
// both outputs appended to a log file, and returns the service and the
// log's path.
func newTestTask(t *testing.T, id, name string) (*Service, *recorder, string) {
	t.Helper()
	bundle := t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	os.MkdirAll(rootfs, 0o755)
	wasm, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(rootfs, name), wasm, 0o644)
	b, _ := json.Marshal(specs.Spec{Process: &specs.Process{Args: []string{"/" + name}}, Root: &specs.Root{Path: "rootfs"}})
	os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644)
	rec := &recorder{}
	s := &Service{publisher: rec, shutdown: func() {}}
	log := filepath.Join(bundle, "out.log")
	if _, err := s.Create(testContext(), &taskapi.CreateTaskRequest{ID: id, Bundle: bundle, Stdout: "file://" + log, Stderr: "file://" + log}); err != nil {
		t.Fatal(err)
	}
	return s, rec, log
}

func testContext() context.Context {
	return namespaces.WithNamespace(context.Background(), "test")
}

func wait(t *testing.T, s *Service, id string) uint32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(testContext(), 30*time.Second)
	defer cancel()
	r, err := s.Wait(ctx, &taskapi.WaitRequest{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return r.ExitStatus
}

func TestServiceRunsToExit(t *testing.T) {
	s, rec, log := newTestTask(t, "hello", "hello.wasm")
	ctx := testContext()
	if _, err := s.Start(ctx, &taskapi.StartRequest{ID: "hello"}); err != nil {
		t.Fatal(err)
	}
	if st := wait(t, s, "hello"); st != 7 {
		t.Errorf("exit status %d, want 7", st)
	}
	if _, err := s.Delete(ctx, &taskapi.DeleteRequest{ID: "hello"}); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(log)
	if !strings.Contains(string(out), "hello from ferry\n") || !strings.Contains(string(out), "a line on stderr\n") {
		t.Errorf("log = %q", out)
	}
	if _, err := s.State(ctx, &taskapi.StateRequest{ID: "hello"}); !errdefs.IsNotFound(errdefs.FromGRPC(err)) {
		t.Errorf("State after Delete: %v, want not found", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := strings.Join(rec.topics, " "); got != "/tasks/create /tasks/start /tasks/exit /tasks/delete" {
		t.Errorf("events %s", got)
	}
}

// TestServiceCheckpointExit: a checkpoint with runc's exit option stops
// the program with status 0 after writing it; a restore from it counts on.
func TestServiceCheckpointExit(t *testing.T) {
	s, _, log := newTestTask(t, "counter", "counter.wasm")
	ctx := testContext()
	if _, err := s.Start(ctx, &taskapi.StartRequest{ID: "counter"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	opts, err := typeurl.MarshalAny(&options.CheckpointOptions{Exit: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := s.Checkpoint(ctx, &taskapi.CheckpointTaskRequest{ID: "counter", Path: dir, Options: opts}); err != nil {
		t.Fatal(err)
	}
	if st := wait(t, s, "counter"); st != 0 {
		t.Errorf("exit status after a checkpoint with exit: %d, want 0", st)
	}
	if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(log)
	lines := strings.Fields(string(before))
	if len(lines) == 0 {
		t.Fatal("the counter printed nothing before the checkpoint")
	}
	s.Delete(ctx, &taskapi.DeleteRequest{ID: "counter"})

	// Restore it in another bundle, as containerd does.
	s2, _, log2 := newRestoredTask(t, "counter2", dir)
	if _, err := s2.Start(ctx, &taskapi.StartRequest{ID: "counter2"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		after, _ := os.ReadFile(log2)
		if f := strings.Fields(string(after)); len(f) > 0 {
			if want := lines[len(lines)-1]; f[0] == want {
				t.Fatalf("restored counter repeats %s", want)
			}
			last := atoi(t, lines[len(lines)-1])
			if first := atoi(t, f[0]); first != last+1 {
				t.Fatalf("restored counter starts at %d, the original stopped after %d", first, last)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the restored counter printed nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s2.Kill(ctx, &taskapi.KillRequest{ID: "counter2", Signal: uint32(syscall.SIGTERM)}); err != nil {
		t.Fatal(err)
	}
	if st := wait(t, s2, "counter2"); st != 128+uint32(syscall.SIGTERM) {
		t.Errorf("exit status after SIGTERM: %d", st)
	}
	s2.Delete(ctx, &taskapi.DeleteRequest{ID: "counter2"})
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("%q is not a number", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// newRestoredTask creates a task from the checkpoint directory dir.
func newRestoredTask(t *testing.T, id, dir string) (*Service, *recorder, string) {
	t.Helper()
	bundle := t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	os.MkdirAll(rootfs, 0o755)
	wasm, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "counter.wasm"))
	os.WriteFile(filepath.Join(rootfs, "counter.wasm"), wasm, 0o644)
	b, _ := json.Marshal(specs.Spec{Process: &specs.Process{Args: []string{"/counter.wasm"}}, Root: &specs.Root{Path: "rootfs"}})
	os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644)
	rec := &recorder{}
	s := &Service{publisher: rec, shutdown: func() {}}
	log := filepath.Join(bundle, "out.log")
	if _, err := s.Create(testContext(), &taskapi.CreateTaskRequest{ID: id, Bundle: bundle, Stdout: "file://" + log, Checkpoint: dir}); err != nil {
		t.Fatal(err)
	}
	return s, rec, log
}

// TestServiceRefusals checks each refusal's error and its gRPC code, which
// is what reaches containerd: ttrpc sent every error as Unknown before the
// service gave them their codes, and ctr tasks rm -f then failed on a
// stopped task (the NotFound of its kill came back as Unknown).
func TestServiceRefusals(t *testing.T) {
	s, _, _ := newTestTask(t, "counter", "counter.wasm")
	ctx := testContext()
	if _, err := s.Exec(ctx, &taskapi.ExecProcessRequest{ID: "counter", ExecID: "x"}); !errdefs.IsNotImplemented(errdefs.FromGRPC(err)) {
		t.Errorf("Exec: %v, want not implemented", err)
	}
	if _, err := s.Pause(ctx, &taskapi.PauseRequest{ID: "counter"}); !errdefs.IsFailedPrecondition(errdefs.FromGRPC(err)) {
		t.Errorf("Pause before Start: %v, want failed precondition", err)
	}
	if _, err := s.Start(ctx, &taskapi.StartRequest{ID: "counter"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(ctx, &taskapi.StartRequest{ID: "counter"}); !errdefs.IsFailedPrecondition(errdefs.FromGRPC(err)) {
		t.Errorf("second Start: %v, want failed precondition", err)
	}
	if _, err := s.Delete(ctx, &taskapi.DeleteRequest{ID: "counter"}); !errdefs.IsFailedPrecondition(errdefs.FromGRPC(err)) {
		t.Errorf("Delete of a running task: %v, want failed precondition", err)
	}
	if _, err := s.Kill(ctx, &taskapi.KillRequest{ID: "counter", Signal: 99}); !errdefs.IsInvalidArgument(errdefs.FromGRPC(err)) {
		t.Errorf("Kill with signal 99: %v, want invalid argument", err)
	}
	if _, err := s.Create(ctx, &taskapi.CreateTaskRequest{ID: "other"}); !errdefs.IsAlreadyExists(errdefs.FromGRPC(err)) {
		t.Errorf("second Create: %v, want already exists", err)
	}
	if _, err := s.State(ctx, &taskapi.StateRequest{ID: "other"}); !errdefs.IsNotFound(errdefs.FromGRPC(err)) {
		t.Errorf("State of another id: %v, want not found", err)
	}
	s.Kill(ctx, &taskapi.KillRequest{ID: "counter", Signal: uint32(syscall.SIGKILL)})
	if st := wait(t, s, "counter"); st != 137 {
		t.Errorf("exit status after SIGKILL: %d, want 137", st)
	}
	if _, err := s.Kill(ctx, &taskapi.KillRequest{ID: "counter", Signal: uint32(syscall.SIGKILL)}); !errdefs.IsNotFound(errdefs.FromGRPC(err)) {
		t.Errorf("Kill of a stopped task: %v, want not found", err)
	}
	s.Delete(ctx, &taskapi.DeleteRequest{ID: "counter"})
}

// slowPublisher is a recorder whose events of one topic take a while to
// publish, as they may over ttrpc.
type slowPublisher struct {
	recorder
	slow string
}

func (p *slowPublisher) Publish(ctx context.Context, topic string, event events.Event) error {
	if topic == p.slow {
		time.Sleep(50 * time.Millisecond)
	}
	return p.recorder.Publish(ctx, topic, event)
}

// TestExitEventPublishedBeforeWaitReturns pins that Wait returns only once
// the task's exit event is published: containerd and its clients act on
// Wait (ctr run deletes the task), and a delete event published before
// the exit event confuses whoever follows the events.
func TestExitEventPublishedBeforeWaitReturns(t *testing.T) {
	s, _, _ := newTestTask(t, "hello", "hello.wasm")
	pub := &slowPublisher{slow: "/tasks/exit"}
	s.publisher = pub
	ctx := testContext()
	if _, err := s.Start(ctx, &taskapi.StartRequest{ID: "hello"}); err != nil {
		t.Fatal(err)
	}
	wait(t, s, "hello")
	pub.mu.Lock()
	topics := strings.Join(pub.topics, " ")
	pub.mu.Unlock()
	if !strings.Contains(topics, "/tasks/exit") {
		t.Errorf("Wait returned before the exit event was published (events: %s)", topics)
	}
	s.Delete(ctx, &taskapi.DeleteRequest{ID: "hello"})
}

// TestServiceSandbox: a CRI pod sandbox (entrypoint /pause, not a .wasm)
// is created and started, runs nothing, refuses a pause, and stops when
// killed.
func TestServiceSandbox(t *testing.T) {
	bundle := t.TempDir()
	os.MkdirAll(filepath.Join(bundle, "rootfs"), 0o755)
	b, _ := json.Marshal(specs.Spec{
		Process:     &specs.Process{Args: []string{"/pause"}},
		Root:        &specs.Root{Path: "rootfs"},
		Annotations: map[string]string{"io.kubernetes.cri.container-type": "sandbox"},
	})
	os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644)
	s := &Service{publisher: &recorder{}, shutdown: func() {}}
	ctx := testContext()
	if _, err := s.Create(ctx, &taskapi.CreateTaskRequest{ID: "pod", Bundle: bundle}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(ctx, &taskapi.StartRequest{ID: "pod"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pause(ctx, &taskapi.PauseRequest{ID: "pod"}); !errdefs.IsFailedPrecondition(errdefs.FromGRPC(err)) {
		t.Errorf("Pause of a sandbox: %v, want failed precondition", err)
	}
	if st, err := s.State(ctx, &taskapi.StateRequest{ID: "pod"}); err != nil || st.Status.String() != "RUNNING" {
		t.Errorf("State: %v, %v", st, err)
	}
	s.Kill(ctx, &taskapi.KillRequest{ID: "pod", Signal: uint32(syscall.SIGKILL)})
	if st := wait(t, s, "pod"); st != 137 {
		t.Errorf("exit status %d, want 137", st)
	}
	if _, err := s.Delete(ctx, &taskapi.DeleteRequest{ID: "pod"}); err != nil {
		t.Fatal(err)
	}
}

// TestPauseWhileBlockedOnStdin: a program blocked reading its stdin FIFO
// pauses, is checkpointed and resumes; the restored copy reads on from
// its own stdin.
func TestPauseWhileBlockedOnStdin(t *testing.T) {
	newCat := func(id, checkpoint string) (*Service, *os.File, string) {
		bundle := t.TempDir()
		rootfs := filepath.Join(bundle, "rootfs")
		os.MkdirAll(rootfs, 0o755)
		wasm, err := os.ReadFile(filepath.Join("..", "..", "testdata", "cat.wasm"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(rootfs, "cat.wasm"), wasm, 0o644)
		b, _ := json.Marshal(specs.Spec{Process: &specs.Process{Args: []string{"/cat.wasm"}}, Root: &specs.Root{Path: "rootfs"}})
		os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644)
		in := filepath.Join(bundle, "stdin")
		if err := syscall.Mkfifo(in, 0o600); err != nil {
			t.Fatal(err)
		}
		// Read-write, so that opening does not wait for the shim.
		w, err := os.OpenFile(in, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		s := &Service{publisher: &recorder{}, shutdown: func() {}}
		log := filepath.Join(bundle, "out.log")
		if _, err := s.Create(testContext(), &taskapi.CreateTaskRequest{ID: id, Bundle: bundle, Stdin: in, Stdout: "file://" + log, Checkpoint: checkpoint}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Start(testContext(), &taskapi.StartRequest{ID: id}); err != nil {
			t.Fatal(err)
		}
		return s, w, log
	}
	waitLog := func(log, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, _ := os.ReadFile(log)
			if string(got) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("output %q, want %q", got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	ctx := testContext()
	s, w, log := newCat("cat", "")
	w.WriteString("one\n")
	waitLog(log, "one\n")
	done := make(chan error, 1)
	go func() {
		_, err := s.Pause(ctx, &taskapi.PauseRequest{ID: "cat"})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Pause of a program blocked in fd_read: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Pause of a program blocked in fd_read did not return in 10s")
	}
	dir := t.TempDir()
	if _, err := s.Checkpoint(ctx, &taskapi.CheckpointTaskRequest{ID: "cat", Path: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resume(ctx, &taskapi.ResumeRequest{ID: "cat"}); err != nil {
		t.Fatal(err)
	}
	w.WriteString("two\n")
	waitLog(log, "one\ntwo\n")
	s.Kill(ctx, &taskapi.KillRequest{ID: "cat", Signal: uint32(syscall.SIGKILL)})
	wait(t, s, "cat")
	s.Delete(ctx, &taskapi.DeleteRequest{ID: "cat"})

	s2, w2, log2 := newCat("cat2", dir)
	w2.WriteString("three\n")
	waitLog(log2, "three\n")
	w2.Close() // end of file: cat returns
	if st := wait(t, s2, "cat2"); st != 0 {
		t.Errorf("restored cat exit status %d, want 0", st)
	}
	s2.Delete(ctx, &taskapi.DeleteRequest{ID: "cat2"})
}

// TestShutdownClosesPublisher pins that Shutdown closes the event
// publisher: the shim library waits for it before the process exits, and
// without it every shim lingered 5 seconds after its task was deleted.
func TestShutdownClosesPublisher(t *testing.T) {
	s, rec, _ := newTestTask(t, "hello", "hello.wasm")
	ctx := testContext()
	s.Start(ctx, &taskapi.StartRequest{ID: "hello"})
	wait(t, s, "hello")
	shutdown := false
	s.shutdown = func() { shutdown = true }
	s.Shutdown(ctx, &taskapi.ShutdownRequest{ID: "hello"})
	if shutdown || rec.closed {
		t.Fatalf("Shutdown before Delete: shutdown %v, publisher closed %v; want neither", shutdown, rec.closed)
	}
	if _, err := s.Delete(ctx, &taskapi.DeleteRequest{ID: "hello"}); err != nil {
		t.Fatal(err)
	}
	s.Shutdown(ctx, &taskapi.ShutdownRequest{ID: "hello"})
	if !shutdown || !rec.closed {
		t.Errorf("Shutdown after Delete: shutdown %v, publisher closed %v; want both", shutdown, rec.closed)
	}
}

// TestExitEventAfterStartEvent pins that a program that ends at once
// still has its exit event published after its start event (it came
// first when the start event was slow to go out).
func TestExitEventAfterStartEvent(t *testing.T) {
	s, _, _ := newTestTask(t, "hello", "hello.wasm")
	pub := &slowPublisher{slow: "/tasks/start"}
	s.publisher = pub
	ctx := testContext()
	if _, err := s.Start(ctx, &taskapi.StartRequest{ID: "hello"}); err != nil {
		t.Fatal(err)
	}
	wait(t, s, "hello")
	pub.mu.Lock()
	topics := strings.Join(pub.topics, " ")
	pub.mu.Unlock()
	if topics != "/tasks/start /tasks/exit" {
		t.Errorf("events %s, want /tasks/start /tasks/exit", topics)
	}
	s.Delete(ctx, &taskapi.DeleteRequest{ID: "hello"})
}

// TestPauseRightAfterResume pins that a pause asked for just after a
// resume, before the program actually continued, is honoured: a resume
// clears the instance's pause request as it starts, and a single request
// made in that window was lost, leaving Pause to time out.
func TestPauseRightAfterResume(t *testing.T) {
	s, _, _ := newTestTask(t, "counter", "counter.wasm")
	ctx := testContext()
	if _, err := s.Start(ctx, &taskapi.StartRequest{ID: "counter"}); err != nil {
		t.Fatal(err)
	}
	pause := func(i int) {
		done := make(chan error, 1)
		go func() {
			_, err := s.Pause(ctx, &taskapi.PauseRequest{ID: "counter"})
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("pause %d: %v", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("pause %d right after a resume did not return in 5s", i)
		}
	}
	pause(0)
	for i := 1; i <= 200; i++ {
		if _, err := s.Resume(ctx, &taskapi.ResumeRequest{ID: "counter"}); err != nil {
			t.Fatal(err)
		}
		pause(i)
	}
	s.Kill(ctx, &taskapi.KillRequest{ID: "counter", Signal: uint32(syscall.SIGKILL)})
	wait(t, s, "counter")
	s.Delete(ctx, &taskapi.DeleteRequest{ID: "counter"})
}

// TestCreateRefusesBadModules: a module that does not compile or imports
// more than WASI fails Create as an invalid argument, saying why.
func TestCreateRefusesBadModules(t *testing.T) {
	for _, tc := range []struct {
		name string
		wasm []byte
		want string
	}{
		{"not wasm", []byte("#!/bin/sh\n"), "magic header not detected"},
		// (import "env" "f" (func))
		{"foreign import", []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x02\x09\x01\x03env\x01f\x00\x00"), "imports env.f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := t.TempDir()
			os.MkdirAll(filepath.Join(bundle, "rootfs"), 0o755)
			os.WriteFile(filepath.Join(bundle, "rootfs", "m.wasm"), tc.wasm, 0o644)
			b, _ := json.Marshal(specs.Spec{Process: &specs.Process{Args: []string{"/m.wasm"}}, Root: &specs.Root{Path: "rootfs"}})
			os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644)
			s := &Service{publisher: &recorder{}, shutdown: func() {}}
			_, err := s.Create(testContext(), &taskapi.CreateTaskRequest{ID: "m", Bundle: bundle})
			if !errdefs.IsInvalidArgument(errdefs.FromGRPC(err)) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Create: %v, want an invalid argument saying %q", err, tc.want)
			}
			if _, err := s.State(testContext(), &taskapi.StateRequest{ID: "m"}); !errdefs.IsNotFound(errdefs.FromGRPC(err)) {
				t.Errorf("State after a failed Create: %v, want not found", err)
			}
		})
	}
}

// TestReadOnlyRootIsMountedReadOnly: a spec with a read-only root gets its
// rootfs pre-opened through a read-only bind mount, gone after Delete.
func TestReadOnlyRootIsMountedReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bind mounts need root")
	}
	bundle := t.TempDir()
	os.MkdirAll(filepath.Join(bundle, "rootfs"), 0o755)
	wasm, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "hello.wasm"))
	os.WriteFile(filepath.Join(bundle, "rootfs", "hello.wasm"), wasm, 0o644)
	b, _ := json.Marshal(specs.Spec{Process: &specs.Process{Args: []string{"/hello.wasm"}}, Root: &specs.Root{Path: "rootfs", Readonly: true}})
	os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644)
	s := &Service{publisher: &recorder{}, shutdown: func() {}}
	ctx := testContext()
	if _, err := s.Create(ctx, &taskapi.CreateTaskRequest{ID: "ro", Bundle: bundle}); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(bundle, roMountDir, "0")
	t.Cleanup(func() { mount.UnmountAll(ro, 0) }) // whatever happens below
	if _, err := os.Stat(filepath.Join(ro, "hello.wasm")); err != nil {
		t.Fatalf("the read-only mount does not show the rootfs: %v", err)
	}
	if err := os.WriteFile(filepath.Join(ro, "x"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("writing through the read-only mount: %v, want EROFS", err)
	}
	if _, err := s.Delete(ctx, &taskapi.DeleteRequest{ID: "ro"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ro, "hello.wasm")); err == nil {
		t.Errorf("the read-only mount is still there after Delete")
	}
}
