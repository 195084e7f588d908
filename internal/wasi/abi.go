// Package wasi implements WASI preview 1 (wasi_snapshot_preview1) for Ferry:
// the descriptor table, sandboxed path resolution and every host function.
// The public facade lives in github.com/ferryvm/ferry/wasi.
package wasi

// ModuleName is the import module name of WASI preview 1.
const ModuleName = "wasi_snapshot_preview1"

// Errno is a WASI preview-1 error number (witx type errno, u16).
type Errno uint16

// Errno values, in the order and numbering of wasi_snapshot_preview1.
const (
	ErrnoSuccess Errno = iota
	Errno2big
	ErrnoAcces
	ErrnoAddrinuse
	ErrnoAddrnotavail
	ErrnoAfnosupport
	ErrnoAgain
	ErrnoAlready
	ErrnoBadf
	ErrnoBadmsg
	ErrnoBusy
	ErrnoCanceled
	ErrnoChild
	ErrnoConnaborted
	ErrnoConnrefused
	ErrnoConnreset
	ErrnoDeadlk
	ErrnoDestaddrreq
	ErrnoDom
	ErrnoDquot
	ErrnoExist
	ErrnoFault
	ErrnoFbig
	ErrnoHostunreach
	ErrnoIdrm
	ErrnoIlseq
	ErrnoInprogress
	ErrnoIntr
	ErrnoInval
	ErrnoIo
	ErrnoIsconn
	ErrnoIsdir
	ErrnoLoop
	ErrnoMfile
	ErrnoMlink
	ErrnoMsgsize
	ErrnoMultihop
	ErrnoNametoolong
	ErrnoNetdown
	ErrnoNetreset
	ErrnoNetunreach
	ErrnoNfile
	ErrnoNobufs
	ErrnoNodev
	ErrnoNoent
	ErrnoNoexec
	ErrnoNolck
	ErrnoNolink
	ErrnoNomem
	ErrnoNomsg
	ErrnoNoprotoopt
	ErrnoNospc
	ErrnoNosys
	ErrnoNotconn
	ErrnoNotdir
	ErrnoNotempty
	ErrnoNotrecoverable
	ErrnoNotsock
	ErrnoNotsup
	ErrnoNotty
	ErrnoNxio
	ErrnoOverflow
	ErrnoOwnerdead
	ErrnoPerm
	ErrnoPipe
	ErrnoProto
	ErrnoProtonosupport
	ErrnoPrototype
	ErrnoRange
	ErrnoRofs
	ErrnoSpipe
	ErrnoSrch
	ErrnoStale
	ErrnoTimedout
	ErrnoTxtbsy
	ErrnoXdev
	ErrnoNotcapable
)

// Rights (witx flags rights, u64).
const (
	RightFdDatasync Rights = 1 << iota
	RightFdRead
	RightFdSeek
	RightFdFdstatSetFlags
	RightFdSync
	RightFdTell
	RightFdWrite
	RightFdAdvise
	RightFdAllocate
	RightPathCreateDirectory
	RightPathCreateFile
	RightPathLinkSource
	RightPathLinkTarget
	RightPathOpen
	RightFdReaddir
	RightPathReadlink
	RightPathRenameSource
	RightPathRenameTarget
	RightPathFilestatGet
	RightPathFilestatSetSize
	RightPathFilestatSetTimes
	RightFdFilestatGet
	RightFdFilestatSetSize
	RightFdFilestatSetTimes
	RightPathSymlink
	RightPathRemoveDirectory
	RightPathUnlinkFile
	RightPollFdReadwrite
	RightSockShutdown
	RightSockAccept

	// RightsAll is every right defined by preview 1.
	RightsAll Rights = 1<<30 - 1
)

// Rights is the witx rights bit set.
type Rights uint64

// Rights granted to each kind of descriptor, intersected with what the
// guest asks for. Directories carry the path_* rights; files the fd_* rights.
const (
	RightsFile = RightFdDatasync | RightFdRead | RightFdSeek | RightFdFdstatSetFlags |
		RightFdSync | RightFdTell | RightFdWrite | RightFdAdvise | RightFdAllocate |
		RightFdFilestatGet | RightFdFilestatSetSize | RightFdFilestatSetTimes |
		RightPollFdReadwrite
	RightsDir = RightFdFdstatSetFlags | RightFdSync | RightFdAdvise |
		RightPathCreateDirectory | RightPathCreateFile | RightPathLinkSource |
		RightPathLinkTarget | RightPathOpen | RightFdReaddir | RightPathReadlink |
		RightPathRenameSource | RightPathRenameTarget | RightPathFilestatGet |
		RightPathFilestatSetSize | RightPathFilestatSetTimes | RightFdFilestatGet |
		RightFdFilestatSetTimes | RightPathSymlink | RightPathRemoveDirectory |
		RightPathUnlinkFile | RightFdDatasync
	RightsStdio    = RightFdRead | RightFdWrite | RightFdFdstatSetFlags | RightFdFilestatGet | RightPollFdReadwrite
	RightsListener = RightSockAccept | RightPollFdReadwrite | RightFdFilestatGet | RightFdFdstatSetFlags
	RightsConn     = RightFdRead | RightFdWrite | RightSockShutdown | RightPollFdReadwrite | RightFdFilestatGet | RightFdFdstatSetFlags
)

// Filetype (witx enum filetype, u8).
const (
	FiletypeUnknown uint8 = iota
	FiletypeBlockDevice
	FiletypeCharacterDevice
	FiletypeDirectory
	FiletypeRegularFile
	FiletypeSocketDgram
	FiletypeSocketStream
	FiletypeSymbolicLink
)

// Fdflags (witx flags fdflags, u16).
const (
	FdflagAppend   uint16 = 1 << 0
	FdflagDsync    uint16 = 1 << 1
	FdflagNonblock uint16 = 1 << 2
	FdflagRsync    uint16 = 1 << 3
	FdflagSync     uint16 = 1 << 4
	fdflagsAll            = FdflagAppend | FdflagDsync | FdflagNonblock | FdflagRsync | FdflagSync
)

// Oflags (witx flags oflags, u16).
const (
	OflagCreat     uint16 = 1 << 0
	OflagDirectory uint16 = 1 << 1
	OflagExcl      uint16 = 1 << 2
	OflagTrunc     uint16 = 1 << 3
)

// Lookupflags.
const LookupSymlinkFollow uint32 = 1

// Fstflags.
const (
	FstflagAtim    uint16 = 1 << 0
	FstflagAtimNow uint16 = 1 << 1
	FstflagMtim    uint16 = 1 << 2
	FstflagMtimNow uint16 = 1 << 3
)

// Whence.
const (
	WhenceSet uint8 = iota
	WhenceCur
	WhenceEnd
)

// Clock identifiers.
const (
	ClockRealtime uint32 = iota
	ClockMonotonic
	ClockProcessCPUTime
	ClockThreadCPUTime
)

// Event types and flags used by poll_oneoff.
const (
	EventtypeClock uint8 = iota
	EventtypeFdRead
	EventtypeFdWrite

	SubclockAbstime        uint16 = 1
	EventFdReadwriteHangup uint16 = 1
)

// Socket flags.
const (
	RiflagRecvPeek    uint16 = 1
	RiflagRecvWaitall uint16 = 2
	RoflagTruncated   uint16 = 1
	SdflagRd          uint8  = 1
	SdflagWr          uint8  = 2
)

// Sizes of the ABI structures in guest memory.
const (
	sizeFdstat       = 24
	sizeFilestat     = 64
	sizeDirent       = 24
	sizePrestat      = 8
	sizeIovec        = 8
	sizeSubscription = 48
	sizeEvent        = 32
)
