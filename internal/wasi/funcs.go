package wasi

import (
	"context"
	"io"
	"runtime"

	"github.com/ferryvm/ferry/api"
)

// HostFunction is one export of the wasi_snapshot_preview1 host module.
type HostFunction struct {
	Name    string
	Params  []api.ValueType
	Results []api.ValueType
	Fn      api.HostFunc
}

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// impl is the shape of every errno-returning WASI function: p holds the
// parameters (one slot each), the result is the errno.
type impl func(ctx context.Context, m guestMem, p []uint64) Errno

func (s *System) fn(name string, params []api.ValueType, f impl) HostFunction {
	n := len(params)
	return HostFunction{
		Name: name, Params: params, Results: []api.ValueType{i32},
		Fn: func(ctx context.Context, mod api.Module, stack []uint64) {
			var mem api.Memory
			if mod != nil {
				mem = mod.Memory()
			}
			var p [10]uint64
			copy(p[:], stack[:n])
			stack[0] = uint64(f(ctx, guestMem{mem}, p[:n]))
		},
	}
}

func sig(ts ...api.ValueType) []api.ValueType { return ts }

// Functions lists every function of wasi_snapshot_preview1, bound to s.
func (s *System) Functions() []HostFunction {
	return []HostFunction{
		s.fn("args_get", sig(i32, i32), s.argsGet),
		s.fn("args_sizes_get", sig(i32, i32), s.argsSizesGet),
		s.fn("environ_get", sig(i32, i32), s.environGet),
		s.fn("environ_sizes_get", sig(i32, i32), s.environSizesGet),
		s.fn("clock_res_get", sig(i32, i32), s.clockResGet),
		s.fn("clock_time_get", sig(i32, i64, i32), s.clockTimeGet),
		s.fn("fd_advise", sig(i32, i64, i64, i32), s.fdAdvise),
		s.fn("fd_allocate", sig(i32, i64, i64), s.fdAllocate),
		s.fn("fd_close", sig(i32), s.fdClose),
		s.fn("fd_datasync", sig(i32), s.fdDatasync),
		s.fn("fd_fdstat_get", sig(i32, i32), s.fdFdstatGet),
		s.fn("fd_fdstat_set_flags", sig(i32, i32), s.fdFdstatSetFlags),
		s.fn("fd_fdstat_set_rights", sig(i32, i64, i64), s.fdFdstatSetRights),
		s.fn("fd_filestat_get", sig(i32, i32), s.fdFilestatGet),
		s.fn("fd_filestat_set_size", sig(i32, i64), s.fdFilestatSetSize),
		s.fn("fd_filestat_set_times", sig(i32, i64, i64, i32), s.fdFilestatSetTimes),
		s.fn("fd_pread", sig(i32, i32, i32, i64, i32), s.fdPread),
		s.fn("fd_prestat_get", sig(i32, i32), s.fdPrestatGet),
		s.fn("fd_prestat_dir_name", sig(i32, i32, i32), s.fdPrestatDirName),
		s.fn("fd_pwrite", sig(i32, i32, i32, i64, i32), s.fdPwrite),
		s.fn("fd_read", sig(i32, i32, i32, i32), s.fdRead),
		s.fn("fd_readdir", sig(i32, i32, i32, i64, i32), s.fdReaddir),
		s.fn("fd_renumber", sig(i32, i32), s.fdRenumber),
		s.fn("fd_seek", sig(i32, i64, i32, i32), s.fdSeek),
		s.fn("fd_sync", sig(i32), s.fdSync),
		s.fn("fd_tell", sig(i32, i32), s.fdTell),
		s.fn("fd_write", sig(i32, i32, i32, i32), s.fdWrite),
		s.fn("path_create_directory", sig(i32, i32, i32), s.pathCreateDirectory),
		s.fn("path_filestat_get", sig(i32, i32, i32, i32, i32), s.pathFilestatGet),
		s.fn("path_filestat_set_times", sig(i32, i32, i32, i32, i64, i64, i32), s.pathFilestatSetTimes),
		s.fn("path_link", sig(i32, i32, i32, i32, i32, i32, i32), s.pathLink),
		s.fn("path_open", sig(i32, i32, i32, i32, i32, i64, i64, i32, i32), s.pathOpen),
		s.fn("path_readlink", sig(i32, i32, i32, i32, i32, i32), s.pathReadlink),
		s.fn("path_remove_directory", sig(i32, i32, i32), s.pathRemoveDirectory),
		s.fn("path_rename", sig(i32, i32, i32, i32, i32, i32), s.pathRename),
		s.fn("path_symlink", sig(i32, i32, i32, i32, i32), s.pathSymlink),
		s.fn("path_unlink_file", sig(i32, i32, i32), s.pathUnlinkFile),
		s.fn("poll_oneoff", sig(i32, i32, i32, i32), s.pollOneoff),
		{Name: "proc_exit", Params: sig(i32), Fn: s.procExit},
		s.fn("proc_raise", sig(i32), s.procRaise),
		s.fn("sched_yield", nil, s.schedYield),
		s.fn("random_get", sig(i32, i32), s.randomGet),
		s.fn("sock_accept", sig(i32, i32, i32), s.sockAccept),
		s.fn("sock_recv", sig(i32, i32, i32, i32, i32, i32), s.sockRecv),
		s.fn("sock_send", sig(i32, i32, i32, i32, i32), s.sockSend),
		s.fn("sock_shutdown", sig(i32, i32), s.sockShutdown),
	}
}

// putStrings writes a string list as args_get/environ_get expect: an array
// of pointers at ptrs and the NUL-terminated strings packed at buf.
func putStrings(m guestMem, list []string, ptrs, buf uint32) Errno {
	for i, a := range list {
		if e := m.putU32(ptrs+uint32(i)*4, buf); e != 0 {
			return e
		}
		if e := m.write(buf, append([]byte(a), 0)); e != 0 {
			return e
		}
		buf += uint32(len(a)) + 1
	}
	return 0
}

func putSizes(m guestMem, list []string, countPtr, sizePtr uint32) Errno {
	size := 0
	for _, a := range list {
		size += len(a) + 1
	}
	if e := m.putU32(countPtr, uint32(len(list))); e != 0 {
		return e
	}
	return m.putU32(sizePtr, uint32(size))
}

func (s *System) argsGet(_ context.Context, m guestMem, p []uint64) Errno {
	return putStrings(m, s.args, uint32(p[0]), uint32(p[1]))
}

func (s *System) argsSizesGet(_ context.Context, m guestMem, p []uint64) Errno {
	return putSizes(m, s.args, uint32(p[0]), uint32(p[1]))
}

func (s *System) environGet(_ context.Context, m guestMem, p []uint64) Errno {
	return putStrings(m, s.env, uint32(p[0]), uint32(p[1]))
}

func (s *System) environSizesGet(_ context.Context, m guestMem, p []uint64) Errno {
	return putSizes(m, s.env, uint32(p[0]), uint32(p[1]))
}

func (s *System) clockResGet(_ context.Context, m guestMem, p []uint64) Errno {
	r, e := s.clock.Resolution(uint32(p[0]))
	if e != 0 {
		return e
	}
	return m.putU64(uint32(p[1]), r)
}

func (s *System) clockTimeGet(_ context.Context, m guestMem, p []uint64) Errno {
	t, e := s.clock.Now(uint32(p[0]))
	if e != 0 {
		return e
	}
	return m.putU64(uint32(p[2]), t)
}

// randomGet fills the buffer a chunk at a time, looking at ctx between
// chunks: filling 4 GiB takes seconds, and a pause or cancellation then
// gives up the call, to be issued again on resume (the buffer's contents
// are the guest's to ignore until the call returns).
func (s *System) randomGet(ctx context.Context, m guestMem, p []uint64) Errno {
	buf, e := m.read(uint32(p[0]), uint32(p[1]))
	if e != 0 {
		return e
	}
	for len(buf) > 0 {
		if ctx.Err() != nil {
			interrupt(ctx, "random_get")
		}
		n := min(len(buf), writeChunk)
		if _, err := io.ReadFull(s.random, buf[:n]); err != nil {
			return ErrnoIo
		}
		buf = buf[n:]
	}
	return 0
}

func (s *System) procExit(_ context.Context, _ api.Module, stack []uint64) {
	panic(&ExitError{Code: uint32(stack[0])})
}

// procRaise: signals are not delivered to guests; preview 1 leaves the
// effect to the host, and Ferry reports them as unsupported.
func (s *System) procRaise(_ context.Context, _ guestMem, p []uint64) Errno {
	if uint32(p[0]) > 30 {
		return ErrnoInval
	}
	return ErrnoNosys
}

func (s *System) schedYield(context.Context, guestMem, []uint64) Errno {
	runtime.Gosched()
	return 0
}
