// Package service implements containerd's runtime v2 task API for Ferry:
// one shim process per task, the task's WebAssembly program running inside
// it, and containerd's checkpoint and restore made of Ferry checkpoints.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	eventstypes "github.com/containerd/containerd/api/events"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/containerd/runtime"
	"github.com/containerd/containerd/runtime/v2/runc/options"
	"github.com/containerd/containerd/runtime/v2/shim"
	taskapi "github.com/containerd/containerd/runtime/v2/task"
	"github.com/containerd/typeurl"
	ptypes "github.com/gogo/protobuf/types"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/wasi"
)

// RuntimeName is the runtime name containerd knows the shim by
// (ctr run --runtime io.containerd.ferry.v1), which also names its binary,
// containerd-shim-ferry-v1.
const RuntimeName = "io.containerd.ferry.v1"

// CheckpointFile is the name of the Ferry checkpoint inside containerd's
// checkpoint directory (the "criu.tar" blob of a checkpoint image).
const CheckpointFile = "ferry.checkpoint"

// ErrNotFerryCheckpoint is the error of a restore from a checkpoint that
// another runtime wrote (runc's CRIU images).
var ErrNotFerryCheckpoint = errors.New("not a Ferry checkpoint")

// Service is the task service of one shim process, which serves one task.
type Service struct {
	publisher shim.Publisher
	shutdown  func()

	mu     sync.Mutex
	task   *task
	closed bool
}

// task is the container's one process: the guest and what it holds.
type task struct {
	id, bundle string
	stdin      string
	stdout     string
	stderr     string
	rootfs     string   // mounted by the shim, unmounted at delete; "" if none
	roMounts   []string // read-only bind mounts of pre-opens, unmounted at delete
	guest      *guest
	done       chan struct{} // closed once the exit event is published
	// startPublished is closed once the start event is: the exit event
	// must come after it.
	startPublished chan struct{}
	stdio          []io.Closer
	logFile        *os.File // the file of a file:// stdio URI
	stdioOnce      sync.Once
	ioCancel       context.CancelFunc
	deleted        bool
}

// New is the shim library's Init function.
func New(ctx context.Context, id string, publisher shim.Publisher, shutdown func()) (shim.Shim, error) {
	return &Service{publisher: publisher, shutdown: shutdown}, nil
}

var _ taskapi.TaskService = (*Service)(nil)

func (s *Service) publish(ctx context.Context, topic string, event interface{}) {
	if err := s.publisher.Publish(ctx, topic, event); err != nil {
		fmt.Fprintf(os.Stderr, "ferry shim: publish %s: %v\n", topic, err)
	}
}

// current returns the task named id.
func (s *Service) current(id string) (*task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.task == nil || s.task.id != id || s.task.deleted {
		return nil, fmt.Errorf("task %q: %w", id, errdefs.ErrNotFound)
	}
	return s.task, nil
}

// toGRPC gives a returned error its gRPC status code (errdefs.ErrNotFound
// becomes NotFound, ...): ttrpc sends any other error as Unknown, and
// containerd and its clients decide by the code (ctr tasks rm -f ignores
// NotFound from the kill of a task that already stopped).
func toGRPC(err *error) {
	if *err != nil {
		*err = errdefs.ToGRPC(*err)
	}
}

func noExec(execID string) error {
	if execID != "" {
		return fmt.Errorf("ferry: exec processes are not supported (a WebAssembly task is one program): %w", errdefs.ErrNotImplemented)
	}
	return nil
}

// Create prepares the task: mounts its rootfs, opens containerd's FIFOs,
// and compiles and instantiates the module, or restores it when the
// request names a checkpoint directory. The runtime options may be runc's
// or empty (containerd sends both shapes); the shim has none of its own.
func (s *Service) Create(ctx context.Context, r *taskapi.CreateTaskRequest) (_ *taskapi.CreateTaskResponse, retErr error) {
	defer toGRPC(&retErr)
	s.mu.Lock()
	if s.task != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("ferry: this shim already serves task %q: %w", s.task.id, errdefs.ErrAlreadyExists)
	}
	s.mu.Unlock()
	if r.Terminal {
		return nil, fmt.Errorf("ferry: terminals are not supported (WASI has no tty): %w", errdefs.ErrNotImplemented)
	}
	t := &task{id: r.ID, bundle: r.Bundle, stdin: r.Stdin, stdout: r.Stdout, stderr: r.Stderr}
	defer func() {
		if retErr != nil {
			t.release()
		}
	}()
	if len(r.Rootfs) > 0 {
		rootfs := filepath.Join(r.Bundle, "rootfs")
		if err := os.Mkdir(rootfs, 0o711); err != nil && !os.IsExist(err) {
			return nil, err
		}
		var mounts []mount.Mount
		for _, m := range r.Rootfs {
			mounts = append(mounts, mount.Mount{Type: m.Type, Source: m.Source, Options: m.Options})
		}
		if err := mount.All(mounts, rootfs); err != nil {
			return nil, fmt.Errorf("ferry: mount the rootfs: %w", err)
		}
		t.rootfs = rootfs
	}
	prog, err := loadProgram(r.Bundle)
	if err != nil {
		return nil, fmt.Errorf("ferry: %w", badInput(err))
	}
	if err := t.mountReadOnly(prog); err != nil {
		return nil, fmt.Errorf("ferry: %w", err)
	}
	stdin, stdout, stderr, err := t.openStdio()
	if err != nil {
		return nil, fmt.Errorf("ferry: %w", err)
	}
	cfg := prog.wasiConfig().WithStdin(stdin).WithStdout(stdout).WithStderr(stderr)
	rt := ferry.NewRuntime(ferry.NewRuntimeConfig())
	var g *guest
	if prog.sandbox {
		if r.Checkpoint != "" {
			err = errors.New("a pod sandbox has no program to restore")
		} else {
			g = newGuest(rt, nil, nil, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, stderr)
		}
	} else if r.Checkpoint != "" {
		g, err = restoreGuest(ctx, rt, r.Checkpoint, r.Bundle, cfg, stderr)
	} else {
		g, err = newGuestFromModule(ctx, rt, prog, cfg, stderr)
	}
	if err != nil {
		_ = rt.Close(context.Background())
		return nil, fmt.Errorf("ferry: %w", badInput(err))
	}
	t.guest = g
	t.done = make(chan struct{})
	t.startPublished = make(chan struct{})
	go s.reportExit(context.WithoutCancel(ctx), t)
	s.mu.Lock()
	s.task = t
	s.mu.Unlock()
	s.publish(ctx, runtime.TaskCreateEventTopic, &eventstypes.TaskCreate{
		ContainerID: r.ID, Bundle: r.Bundle, Rootfs: r.Rootfs,
		IO:         &eventstypes.TaskIO{Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr},
		Checkpoint: r.Checkpoint, Pid: uint32(os.Getpid()),
	})
	return &taskapi.CreateTaskResponse{Pid: uint32(os.Getpid())}, nil
}

// roMountDir holds, in the bundle, the read-only bind mounts of pre-opens.
const roMountDir = "ferry-ro"

// mountReadOnly bind-mounts every read-only pre-open (the rootfs of a
// read-only spec root, a bind mount with the "ro" option) read-only under
// the bundle, and points the pre-open there: a WASI pre-open grants
// writing, so the kernel is what refuses it. Only the top mount is
// read-only; mounts beneath the source keep their own flags.
func (t *task) mountReadOnly(prog *program) error {
	for i := range prog.preopens {
		po := &prog.preopens[i]
		if !po.readOnly {
			continue
		}
		target := filepath.Join(t.bundle, roMountDir, strconv.Itoa(i))
		if err := os.MkdirAll(target, 0o700); err != nil {
			return err
		}
		m := mount.Mount{Type: "bind", Source: po.host, Options: []string{"rbind", "ro"}}
		if err := m.Mount(target); err != nil {
			return fmt.Errorf("read-only mount of %s for %s: %w", po.host, po.guest, err)
		}
		t.roMounts = append(t.roMounts, target)
		po.host = target
	}
	return nil
}

// badInput classes the errors of an image or checkpoint that cannot run
// as invalid arguments, for containerd and ctr; the rest (I/O, mounts)
// stay unclassed.
func badInput(err error) error {
	for _, bad := range []error{ErrNotWasm, ErrNotFerryCheckpoint, ferry.ErrCheckpointCorrupt, ferry.ErrMalformed, ferry.ErrInvalid, ferry.ErrLink} {
		if errors.Is(err, bad) {
			return fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	return err
}

// newGuestFromModule compiles and instantiates the entrypoint module,
// ready to call _start.
func newGuestFromModule(ctx context.Context, rt *ferry.Runtime, prog *program, cfg wasi.Config, log io.Writer) (*guest, error) {
	wasm, err := os.ReadFile(prog.modulePath)
	if err != nil {
		return nil, err
	}
	m, err := rt.Compile(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prog.args[0], err)
	}
	for _, im := range m.Imports() {
		if im.Module != wasi.ModuleName {
			return nil, fmt.Errorf("%s: %w: imports %s.%s: Ferry's shim provides only %s", prog.args[0], ferry.ErrLink, im.Module, im.Name, wasi.ModuleName)
		}
	}
	w, err := wasi.Instantiate(ctx, rt, cfg)
	if err != nil {
		return nil, err
	}
	inst, err := rt.Instantiate(ctx, m, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prog.args[0], err)
	}
	f := inst.Function("_start")
	if f == nil {
		return nil, fmt.Errorf("%s: %w: it exports no _start (a WASI command is needed)", prog.args[0], ErrNotWasm)
	}
	first := func(ctx context.Context) error {
		_, err := f.CallWithOptions(ctx, ferry.CallOptions{})
		return err
	}
	return newGuest(rt, w, inst, first, log), nil
}

// restoreGuest restores the checkpoint that containerd unpacked into dir.
// The checkpoint is copied into the bundle first: containerd removes dir
// once Create returns, and Ferry maps a checkpoint's memory from its file.
func restoreGuest(ctx context.Context, rt *ferry.Runtime, dir, bundle string, cfg wasi.Config, log io.Writer) (*guest, error) {
	src := filepath.Join(dir, CheckpointFile)
	if _, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("restore from %s: %w: it holds no %s (a checkpoint of another runtime, such as runc's CRIU images, cannot be restored by Ferry)", dir, ErrNotFerryCheckpoint, CheckpointFile)
	}
	dst := filepath.Join(bundle, CheckpointFile)
	if err := copyFile(dst, src); err != nil {
		return nil, fmt.Errorf("restore: copy the checkpoint: %w", err)
	}
	ck, err := ferry.OpenCheckpoint(dst)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	w, err := wasi.Restore(ctx, rt, ck, cfg, wasi.RestoreOptions{})
	if err != nil {
		ck.Close()
		return nil, fmt.Errorf("restore: %w", err)
	}
	// Memory checksums are checked before the program continues: a
	// damaged checkpoint then fails the create, where ctr reports it,
	// rather than the task after it started.
	p, err := rt.Restore(ctx, ck, ferry.NewRestoreConfig().WithMemoryVerification(ferry.VerifyBeforeRun))
	ck.Close() // the restored instance's mappings hold the file
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	first := func(ctx context.Context) error {
		_, err := p.Resume(ctx, ferry.CallOptions{})
		return err
	}
	return newGuest(rt, w, p.Instance(), first, log), nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// reportExit publishes the task's exit event once its program stopped,
// then lets Wait return: whoever acts on Wait (ctr run deletes the task)
// must find the exit already published. The context is Create's, without
// its cancellation: the event comes long after Create returned.
func (s *Service) reportExit(ctx context.Context, t *task) {
	g := t.guest
	<-g.exited
	g.mu.Lock()
	status, at, ran := g.status, g.exitedAt, g.ran
	g.mu.Unlock()
	if ran {
		<-t.startPublished // a quick program ends before Start published
	}
	t.closeStdio()
	s.publish(ctx, runtime.TaskExitEventTopic, &eventstypes.TaskExit{
		ContainerID: t.id, ID: t.id, Pid: uint32(os.Getpid()), ExitStatus: status, ExitedAt: at,
	})
	close(t.done)
}

// Start runs the task's program.
func (s *Service) Start(ctx context.Context, r *taskapi.StartRequest) (_ *taskapi.StartResponse, err error) {
	defer toGRPC(&err)
	if err := noExec(r.ExecID); err != nil {
		return nil, err
	}
	t, err := s.current(r.ID)
	if err != nil {
		return nil, err
	}
	if err := t.guest.start(); err != nil {
		return nil, fmt.Errorf("ferry: %w: %w", err, errdefs.ErrFailedPrecondition)
	}
	pid := uint32(os.Getpid())
	s.publish(ctx, runtime.TaskStartEventTopic, &eventstypes.TaskStart{ContainerID: t.id, Pid: pid})
	close(t.startPublished)
	return &taskapi.StartResponse{Pid: pid}, nil
}

// State reports the task's status.
func (s *Service) State(ctx context.Context, r *taskapi.StateRequest) (_ *taskapi.StateResponse, err error) {
	defer toGRPC(&err)
	if err := noExec(r.ExecID); err != nil {
		return nil, err
	}
	t, err := s.current(r.ID)
	if err != nil {
		return nil, err
	}
	g := t.guest
	g.mu.Lock()
	defer g.mu.Unlock()
	status := map[guestState]tasktypes.Status{
		guestCreated: tasktypes.StatusCreated, guestRunning: tasktypes.StatusRunning,
		guestPaused: tasktypes.StatusPaused, guestStopped: tasktypes.StatusStopped,
	}[g.state]
	return &taskapi.StateResponse{
		ID: t.id, Bundle: t.bundle, Pid: uint32(os.Getpid()), Status: status,
		Stdin: t.stdin, Stdout: t.stdout, Stderr: t.stderr,
		ExitStatus: g.status, ExitedAt: g.exitedAt,
	}, nil
}

// Delete releases a task that is not running: its runtime, FIFOs and
// rootfs mounts.
func (s *Service) Delete(ctx context.Context, r *taskapi.DeleteRequest) (_ *taskapi.DeleteResponse, err error) {
	defer toGRPC(&err)
	if err := noExec(r.ExecID); err != nil {
		return nil, err
	}
	t, err := s.current(r.ID)
	if err != nil {
		return nil, err
	}
	g := t.guest
	g.mu.Lock()
	state := g.state
	g.mu.Unlock()
	if state == guestRunning || state == guestPaused {
		return nil, fmt.Errorf("ferry: task %q is still running; kill it first: %w", t.id, errdefs.ErrFailedPrecondition)
	}
	if state == guestCreated {
		g.stop(128 + uint32(syscall.SIGKILL))
	}
	<-t.done // the exit event comes before the delete event
	g.mu.Lock()
	status, at := g.status, g.exitedAt
	g.mu.Unlock()
	s.mu.Lock()
	t.deleted = true
	s.mu.Unlock()
	t.release()
	pid := uint32(os.Getpid())
	s.publish(ctx, runtime.TaskDeleteEventTopic, &eventstypes.TaskDelete{
		ContainerID: t.id, ID: t.id, Pid: pid, ExitStatus: status, ExitedAt: at,
	})
	return &taskapi.DeleteResponse{Pid: pid, ExitStatus: status, ExitedAt: at}, nil
}

// Pids lists the task's one process: the shim itself, in which the
// program runs.
func (s *Service) Pids(ctx context.Context, r *taskapi.PidsRequest) (_ *taskapi.PidsResponse, err error) {
	defer toGRPC(&err)
	if _, err := s.current(r.ID); err != nil {
		return nil, err
	}
	return &taskapi.PidsResponse{Processes: []*tasktypes.ProcessInfo{{Pid: uint32(os.Getpid())}}}, nil
}

// Pause stops the program at its next pause point.
func (s *Service) Pause(ctx context.Context, r *taskapi.PauseRequest) (_ *ptypes.Empty, err error) {
	defer toGRPC(&err)
	t, err := s.current(r.ID)
	if err != nil {
		return nil, err
	}
	if _, err := t.guest.pause(); err != nil {
		return nil, fmt.Errorf("ferry: pause: %w: %w", err, errdefs.ErrFailedPrecondition)
	}
	s.publish(ctx, runtime.TaskPausedEventTopic, &eventstypes.TaskPaused{ContainerID: t.id})
	return &ptypes.Empty{}, nil
}

// Resume continues a paused program.
func (s *Service) Resume(ctx context.Context, r *taskapi.ResumeRequest) (_ *ptypes.Empty, err error) {
	defer toGRPC(&err)
	t, err := s.current(r.ID)
	if err != nil {
		return nil, err
	}
	if err := t.guest.unpause(); err != nil {
		return nil, fmt.Errorf("ferry: resume: %w: %w", err, errdefs.ErrFailedPrecondition)
	}
	s.publish(ctx, runtime.TaskResumedEventTopic, &eventstypes.TaskResumed{ContainerID: t.id})
	return &ptypes.Empty{}, nil
}

// Checkpoint writes a Ferry checkpoint of the program into r.Path, which
// containerd packs into the checkpoint image. The options are runc's
// (containerd has no others); only Exit counts: without it the program
// goes on, as with ferry run --leave-running.
func (s *Service) Checkpoint(ctx context.Context, r *taskapi.CheckpointTaskRequest) (_ *ptypes.Empty, err error) {
	defer toGRPC(&err)
	t, err := s.current(r.ID)
	if err != nil {
		return nil, err
	}
	exit := false
	if r.Options != nil && r.Options.TypeUrl != "" {
		v, err := typeurl.UnmarshalAny(r.Options)
		if err != nil {
			return nil, fmt.Errorf("ferry: checkpoint options: %w", err)
		}
		if o, ok := v.(*options.CheckpointOptions); ok {
			exit = o.Exit
		}
	}
	if r.Path == "" {
		return nil, fmt.Errorf("ferry: checkpoint: no path to write to: %w", errdefs.ErrInvalidArgument)
	}
	if err := os.MkdirAll(r.Path, 0o700); err != nil {
		return nil, fmt.Errorf("ferry: checkpoint: %w", err)
	}
	if err := t.guest.checkpoint(filepath.Join(r.Path, CheckpointFile), exit); err != nil {
		return nil, fmt.Errorf("ferry: checkpoint: %w", err)
	}
	s.publish(ctx, runtime.TaskCheckpointedEventTopic, &eventstypes.TaskCheckpointed{ContainerID: t.id})
	return &ptypes.Empty{}, nil
}

// Kill maps signals onto what a WebAssembly program can do: those whose
// default action ends a process stop it with status 128+N (SIGTERM and
// SIGINT stop it at its next pause point, closing its files as an exit
// would; there is nothing harder to do to code that never leaves Ferry),
// the stop signals pause it, SIGCONT resumes it, and those a process
// ignores by default are ignored. WASI programs cannot catch signals.
func (s *Service) Kill(ctx context.Context, r *taskapi.KillRequest) (_ *ptypes.Empty, err error) {
	defer toGRPC(&err)
	if err := noExec(r.ExecID); err != nil {
		return nil, err
	}
	t, err := s.current(r.ID)
	if err != nil {
		return nil, err
	}
	switch sig := syscall.Signal(r.Signal); sig {
	case syscall.SIGCHLD, syscall.SIGWINCH, syscall.SIGURG:
	case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
		if _, err := t.guest.pause(); err != nil {
			return nil, fmt.Errorf("ferry: %v: %w: %w", sig, err, errdefs.ErrFailedPrecondition)
		}
	case syscall.SIGCONT:
		// Continuing a task that is not paused is no error, as for a process.
		_ = t.guest.unpause()
	default:
		if sig < 1 || sig > 64 {
			return nil, fmt.Errorf("ferry: signal %d: %w", r.Signal, errdefs.ErrInvalidArgument)
		}
		g := t.guest
		g.mu.Lock()
		stopped := g.state == guestStopped
		g.mu.Unlock()
		if stopped {
			return nil, fmt.Errorf("ferry: task %q: process already finished: %w", t.id, errdefs.ErrNotFound)
		}
		g.stop(128 + uint32(sig))
	}
	return &ptypes.Empty{}, nil
}

// Exec is refused: a WebAssembly task has no second process to start.
func (s *Service) Exec(ctx context.Context, r *taskapi.ExecProcessRequest) (_ *ptypes.Empty, err error) {
	defer toGRPC(&err)
	return nil, noExec("exec")
}

// ResizePty is refused: the shim makes no terminals.
func (s *Service) ResizePty(ctx context.Context, r *taskapi.ResizePtyRequest) (_ *ptypes.Empty, err error) {
	defer toGRPC(&err)
	return nil, fmt.Errorf("ferry: terminals are not supported: %w", errdefs.ErrNotImplemented)
}

// CloseIO closes the program's stdin: it then reads end of file.
func (s *Service) CloseIO(ctx context.Context, r *taskapi.CloseIORequest) (_ *ptypes.Empty, err error) {
	defer toGRPC(&err)
	t, err := s.current(r.ID)
	if err != nil {
		return nil, err
	}
	if r.Stdin && len(t.stdio) > 0 && t.stdio[0] != nil {
		if err := t.stdio[0].Close(); err != nil {
			return nil, err
		}
	}
	return &ptypes.Empty{}, nil
}

// Update is refused: Ferry's limits are set when a task is created.
func (s *Service) Update(ctx context.Context, r *taskapi.UpdateTaskRequest) (_ *ptypes.Empty, err error) {
	defer toGRPC(&err)
	return nil, fmt.Errorf("ferry: updating resources is not supported: %w", errdefs.ErrNotImplemented)
}

// Wait returns when the program has stopped, with its exit status.
func (s *Service) Wait(ctx context.Context, r *taskapi.WaitRequest) (_ *taskapi.WaitResponse, err error) {
	defer toGRPC(&err)
	if err := noExec(r.ExecID); err != nil {
		return nil, err
	}
	t, err := s.current(r.ID)
	if err != nil {
		return nil, err
	}
	g := t.guest
	select {
	case <-t.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return &taskapi.WaitResponse{ExitStatus: g.status, ExitedAt: g.exitedAt}, nil
}

// Stats has no cgroup to report from.
func (s *Service) Stats(ctx context.Context, r *taskapi.StatsRequest) (_ *taskapi.StatsResponse, err error) {
	defer toGRPC(&err)
	return nil, fmt.Errorf("ferry: stats are not supported: %w", errdefs.ErrNotImplemented)
}

// Connect tells containerd the shim's and the task's pid: the same one.
func (s *Service) Connect(ctx context.Context, r *taskapi.ConnectRequest) (_ *taskapi.ConnectResponse, err error) {
	defer toGRPC(&err)
	pid := uint32(os.Getpid())
	return &taskapi.ConnectResponse{ShimPid: pid, TaskPid: pid, Version: ferry.Version()}, nil
}

// Shutdown ends the shim once its task is deleted (or was never created).
func (s *Service) Shutdown(ctx context.Context, r *taskapi.ShutdownRequest) (_ *ptypes.Empty, err error) {
	defer toGRPC(&err)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.task != nil && !s.task.deleted {
		return &ptypes.Empty{}, nil
	}
	if !s.closed {
		s.closed = true
		// Every event went out already (Publish forwards before it
		// returns). The shim library waits up to 5 seconds for the
		// publisher to be closed before the shim process exits.
		if err := s.publisher.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "ferry shim: close the event publisher: %v\n", err)
		}
		s.shutdown()
	}
	return &ptypes.Empty{}, nil
}

// Cleanup is the "delete" action containerd runs when the shim died: the
// program died with it (it ran inside), so only the mounts (read-only
// pre-opens, the rootfs) are left to undo.
func (s *Service) Cleanup(ctx context.Context) (*taskapi.DeleteResponse, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	ro, _ := os.ReadDir(filepath.Join(cwd, roMountDir))
	for _, e := range ro {
		if err := mount.UnmountAll(filepath.Join(cwd, roMountDir, e.Name()), 0); err != nil {
			fmt.Fprintf(os.Stderr, "ferry shim: unmount %s: %v\n", e.Name(), err)
		}
	}
	if err := mount.UnmountAll(filepath.Join(cwd, "rootfs"), 0); err != nil {
		fmt.Fprintf(os.Stderr, "ferry shim: unmount the rootfs: %v\n", err)
	}
	return &taskapi.DeleteResponse{ExitedAt: time.Now(), ExitStatus: 128 + uint32(syscall.SIGKILL)}, nil
}
