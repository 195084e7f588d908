package wasi

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

var errnoNames = [...]string{
	"success", "2big", "acces", "addrinuse", "addrnotavail", "afnosupport", "again",
	"already", "badf", "badmsg", "busy", "canceled", "child", "connaborted",
	"connrefused", "connreset", "deadlk", "destaddrreq", "dom", "dquot", "exist",
	"fault", "fbig", "hostunreach", "idrm", "ilseq", "inprogress", "intr", "inval",
	"io", "isconn", "isdir", "loop", "mfile", "mlink", "msgsize", "multihop",
	"nametoolong", "netdown", "netreset", "netunreach", "nfile", "nobufs", "nodev",
	"noent", "noexec", "nolck", "nolink", "nomem", "nomsg", "noprotoopt", "nospc",
	"nosys", "notconn", "notdir", "notempty", "notrecoverable", "notsock", "notsup",
	"notty", "nxio", "overflow", "ownerdead", "perm", "pipe", "proto",
	"protonosupport", "prototype", "range", "rofs", "spipe", "srch", "stale",
	"timedout", "txtbsy", "xdev", "notcapable",
}

// String returns the witx name of the errno ("badf", "notcapable", ...).
func (e Errno) String() string {
	if int(e) < len(errnoNames) {
		return errnoNames[e]
	}
	return "errno(" + itoa(uint64(e)) + ")"
}

func (e Errno) Error() string { return "wasi errno " + e.String() }

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// hostErrnos maps Linux errno values to WASI errnos. Values missing here
// become ErrnoIo.
var hostErrnos = map[unix.Errno]Errno{
	unix.E2BIG: Errno2big, unix.EACCES: ErrnoAcces, unix.EADDRINUSE: ErrnoAddrinuse,
	unix.EADDRNOTAVAIL: ErrnoAddrnotavail, unix.EAFNOSUPPORT: ErrnoAfnosupport,
	unix.EAGAIN: ErrnoAgain, unix.EALREADY: ErrnoAlready, unix.EBADF: ErrnoBadf,
	unix.EBADMSG: ErrnoBadmsg, unix.EBUSY: ErrnoBusy, unix.ECANCELED: ErrnoCanceled,
	unix.ECHILD: ErrnoChild, unix.ECONNABORTED: ErrnoConnaborted,
	unix.ECONNREFUSED: ErrnoConnrefused, unix.ECONNRESET: ErrnoConnreset,
	unix.EDEADLK: ErrnoDeadlk, unix.EDESTADDRREQ: ErrnoDestaddrreq, unix.EDOM: ErrnoDom,
	unix.EDQUOT: ErrnoDquot, unix.EEXIST: ErrnoExist, unix.EFAULT: ErrnoFault,
	unix.EFBIG: ErrnoFbig, unix.EHOSTUNREACH: ErrnoHostunreach, unix.EIDRM: ErrnoIdrm,
	unix.EILSEQ: ErrnoIlseq, unix.EINPROGRESS: ErrnoInprogress, unix.EINTR: ErrnoIntr,
	unix.EINVAL: ErrnoInval, unix.EIO: ErrnoIo, unix.EISCONN: ErrnoIsconn,
	unix.EISDIR: ErrnoIsdir, unix.ELOOP: ErrnoLoop, unix.EMFILE: ErrnoMfile,
	unix.EMLINK: ErrnoMlink, unix.EMSGSIZE: ErrnoMsgsize, unix.EMULTIHOP: ErrnoMultihop,
	unix.ENAMETOOLONG: ErrnoNametoolong, unix.ENETDOWN: ErrnoNetdown,
	unix.ENETRESET: ErrnoNetreset, unix.ENETUNREACH: ErrnoNetunreach,
	unix.ENFILE: ErrnoNfile, unix.ENOBUFS: ErrnoNobufs, unix.ENODEV: ErrnoNodev,
	unix.ENOENT: ErrnoNoent, unix.ENOEXEC: ErrnoNoexec, unix.ENOLCK: ErrnoNolck,
	unix.ENOLINK: ErrnoNolink, unix.ENOMEM: ErrnoNomem, unix.ENOMSG: ErrnoNomsg,
	unix.ENOPROTOOPT: ErrnoNoprotoopt, unix.ENOSPC: ErrnoNospc, unix.ENOSYS: ErrnoNosys,
	unix.ENOTCONN: ErrnoNotconn, unix.ENOTDIR: ErrnoNotdir, unix.ENOTEMPTY: ErrnoNotempty,
	unix.ENOTRECOVERABLE: ErrnoNotrecoverable, unix.ENOTSOCK: ErrnoNotsock,
	unix.EOPNOTSUPP: ErrnoNotsup, unix.ENOTTY: ErrnoNotty, unix.ENXIO: ErrnoNxio,
	unix.EOVERFLOW: ErrnoOverflow, unix.EOWNERDEAD: ErrnoOwnerdead, unix.EPERM: ErrnoPerm,
	unix.EPIPE: ErrnoPipe, unix.EPROTO: ErrnoProto, unix.EPROTONOSUPPORT: ErrnoProtonosupport,
	unix.EPROTOTYPE: ErrnoPrototype, unix.ERANGE: ErrnoRange, unix.EROFS: ErrnoRofs,
	unix.ESPIPE: ErrnoSpipe, unix.ESRCH: ErrnoSrch, unix.ESTALE: ErrnoStale,
	unix.ETIMEDOUT: ErrnoTimedout, unix.ETXTBSY: ErrnoTxtbsy, unix.EXDEV: ErrnoXdev,
}

// ToErrno maps a host error to the WASI errno the guest sees.
func ToErrno(err error) Errno {
	if err == nil {
		return ErrnoSuccess
	}
	var we Errno
	if errors.As(err, &we) {
		return we
	}
	var se syscall.Errno
	if errors.As(err, &se) {
		if e, ok := hostErrnos[unix.Errno(se)]; ok {
			return e
		}
		return ErrnoIo
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ErrnoNoent
	case errors.Is(err, fs.ErrExist):
		return ErrnoExist
	case errors.Is(err, fs.ErrPermission):
		return ErrnoPerm
	case errors.Is(err, os.ErrDeadlineExceeded):
		return ErrnoAgain
	case errors.Is(err, net.ErrClosed), errors.Is(err, fs.ErrClosed):
		return ErrnoBadf
	case errors.Is(err, io.ErrClosedPipe):
		return ErrnoPipe
	}
	return ErrnoIo
}
