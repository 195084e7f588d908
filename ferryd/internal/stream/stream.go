// Package stream frames a migration between two daemons: a sequence of
// typed frames in each direction, each carrying its own HMAC-SHA256 tag
// under a key both ends export from their TLS 1.3 session (RFC 8446
// §7.5) and never send. A receiver checks every frame before it uses a
// byte of it, and refuses a frame out of sequence (dropped, repeated or
// reordered), too long, or of an unknown type.
//
// TLS already protects the bytes between the two processes; the frame
// tags add what TLS cannot: a check end to end, across the buffers and
// copies of both daemons, bound to the session (a frame recorded from
// another migration does not verify) and to its position in the stream.
package stream

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// Kind is a frame's type.
type Kind uint8

// Frame kinds. Header goes from the source to the destination, Accepted
// (or Refused) back, then Data and End forward (Pages frames of a
// pre-copy before and among them), Ready (or Refused) back, Commit
// forward and Running back; Abort may go either way at any time.
const (
	Header   Kind = 1 + iota // JSON: what is migrated, and how
	Accepted                 // the destination can take it: the source may pause
	Data                     // checkpoint bytes
	End                      // JSON: total length and SHA-256 of the Data bytes
	Ready                    // JSON: restored, waiting for the commit
	Refused                  // JSON: the destination will not run it
	Commit                   // the source is fenced: run it
	Running                  // JSON: the destination runs it
	Abort                    // JSON: give up, with a reason
	Pages                    // pre-copy: memory pages, for the destination's memory image
	Sync                     // pre-copy: answer Synced once every frame before is applied
	Synced                   // every frame before the Sync is applied
	maxKind
)

func (k Kind) String() string {
	names := [...]string{"?", "header", "accepted", "data", "end", "ready", "refused", "commit", "running", "abort", "pages", "sync", "synced"}
	if k < maxKind {
		return names[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MaxPayload bounds a frame's payload: a receiver allocates no more than
// this for one frame, whatever the length field says.
const MaxPayload = 1 << 20

// exporterLabel names ferryd's use of the TLS exporter, so that its key
// differs from any other protocol's exported from the same session.
const exporterLabel = "EXPORTER-ferryd-migration-v1"

// ErrIntegrity is wrapped by every refusal of a frame that does not
// verify: a wrong tag, sequence, length or kind.
var ErrIntegrity = errors.New("migration stream integrity check failed")

const (
	headerLen = 1 + 8 + 4 // kind, sequence number, payload length
	tagLen    = sha256.Size
)

// Conn speaks frames over one connection. Sending and receiving may run
// in two goroutines; each alone is not safe for concurrent use.
type Conn struct {
	r   *bufio.Reader
	w   *bufio.Writer
	key []byte
	// Directions get different sequence spaces through the tag: a frame
	// reflected back to its sender does not verify.
	sendDir, recvDir byte
	sendSeq, recvSeq uint64
	sent             atomic.Int64 // bytes written, framing included: read by progress reports
	data             atomic.Int64 // bytes given to a Writer: read by progress reports

	// Tamper, when set (tests only), may change a frame's bytes after its
	// tag was computed and before it is written.
	Tamper func(kind Kind, seq uint64, frame []byte)
}

// New frames conn, a TLS 1.3 connection whose handshake is complete,
// reading through r (a reader that may hold bytes conn already
// delivered) or conn itself when r is nil. The two ends must pass
// opposite values of initiator. id binds the key to one migration.
func New(conn *tls.Conn, r io.Reader, initiator bool, id string) (*Conn, error) {
	st := conn.ConnectionState()
	if !st.HandshakeComplete || st.Version < tls.VersionTLS13 {
		return nil, errors.New("a migration stream needs a completed TLS 1.3 session")
	}
	key, err := st.ExportKeyingMaterial(exporterLabel, []byte(id), 32)
	if err != nil {
		return nil, fmt.Errorf("derive the stream key: %w", err)
	}
	if r == nil {
		r = conn
	}
	return NewWithKey(r, conn, key, initiator), nil
}

// NewWithKey frames r and w under key (tests, and transports other than
// TLS that agree on a key otherwise).
func NewWithKey(r io.Reader, w io.Writer, key []byte, initiator bool) *Conn {
	c := &Conn{r: bufio.NewReaderSize(r, 64<<10), w: bufio.NewWriterSize(w, 64<<10), key: append([]byte(nil), key...), sendDir: 'S', recvDir: 'D'}
	if !initiator {
		c.sendDir, c.recvDir = 'D', 'S'
	}
	return c
}

func (c *Conn) tag(dir byte, hdr, payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte{dir})
	m.Write(hdr)
	m.Write(payload)
	return m.Sum(nil)
}

// Send writes one frame and flushes it.
func (c *Conn) Send(k Kind, payload []byte) error {
	if err := c.write(k, payload); err != nil {
		return err
	}
	return c.w.Flush()
}

// SendJSON sends v, JSON-encoded, as a frame of kind k.
func (c *Conn) SendJSON(k Kind, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Send(k, b)
}

func (c *Conn) write(k Kind, payload []byte) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("frame of %d bytes exceeds %d", len(payload), MaxPayload)
	}
	frame := make([]byte, headerLen, headerLen+len(payload)+tagLen)
	frame[0] = byte(k)
	binary.BigEndian.PutUint64(frame[1:], c.sendSeq)
	binary.BigEndian.PutUint32(frame[9:], uint32(len(payload)))
	frame = append(frame, payload...)
	frame = append(frame, c.tag(c.sendDir, frame[:headerLen], payload)...)
	if c.Tamper != nil {
		c.Tamper(k, c.sendSeq, frame)
	}
	c.sendSeq++
	n, err := c.w.Write(frame)
	c.sent.Add(int64(n))
	return err
}

// SendPages writes one Pages frame, buffered (Flush, or the next Send,
// sends it), and counts its payload in DataBytes.
func (c *Conn) SendPages(payload []byte) error {
	c.data.Add(int64(len(payload)))
	return c.write(Pages, payload)
}

// Flush sends what is buffered.
func (c *Conn) Flush() error { return c.w.Flush() }

// DataBytes is the number of bytes given to the connection's Writers and
// SendPages so far; it may be called concurrently with them.
func (c *Conn) DataBytes() int64 { return c.data.Load() }

// Sent is the number of bytes written so far, framing and tags included.
// It may be called concurrently with Send.
func (c *Conn) Sent() int64 { return c.sent.Load() }

// Recv reads and verifies the next frame. The payload is valid until the
// next Recv.
func (c *Conn) Recv() (Kind, []byte, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	k := Kind(hdr[0])
	seq := binary.BigEndian.Uint64(hdr[1:])
	n := binary.BigEndian.Uint32(hdr[9:])
	// Length first, so that a forged length allocates nothing; the rest
	// is checked by the tag, which covers the header.
	if n > MaxPayload {
		return 0, nil, fmt.Errorf("%w: frame %d claims %d bytes (at most %d)", ErrIntegrity, c.recvSeq, n, MaxPayload)
	}
	body := make([]byte, int(n)+tagLen)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return 0, nil, unexpected(err)
	}
	payload, tag := body[:n], body[n:]
	if !hmac.Equal(tag, c.tag(c.recvDir, hdr[:], payload)) {
		return 0, nil, fmt.Errorf("%w: frame %d (%v, %d bytes): bad tag", ErrIntegrity, c.recvSeq, k, n)
	}
	if seq != c.recvSeq {
		return 0, nil, fmt.Errorf("%w: frame %d arrived as number %d", ErrIntegrity, c.recvSeq, seq)
	}
	if k == 0 || k >= maxKind {
		return 0, nil, fmt.Errorf("%w: frame %d has unknown kind %d", ErrIntegrity, seq, uint8(k))
	}
	c.recvSeq++
	return k, payload, nil
}

// RecvJSON reads the next frame, which must be of kind want (or Abort or
// Refused, returned as an error), and decodes it into v.
func (c *Conn) RecvJSON(want Kind, v any) error {
	k, b, err := c.Recv()
	if err != nil {
		return err
	}
	if k != want {
		return unexpectedKind(k, want, b)
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%v frame: %w", k, err)
	}
	return nil
}

// PeerError is an Abort or Refused frame the other end sent.
type PeerError struct {
	Kind   Kind
	Reason string
}

func (e *PeerError) Error() string { return fmt.Sprintf("peer %v: %s", e.Kind, e.Reason) }

// Reason is the payload of Abort and Refused frames.
type Reason struct {
	Reason string `json:"reason"`
}

func unexpectedKind(k, want Kind, b []byte) error {
	if k == Abort || k == Refused {
		var r Reason
		_ = json.Unmarshal(b, &r)
		return &PeerError{Kind: k, Reason: r.Reason}
	}
	return fmt.Errorf("unexpected %v frame (wanted %v)", k, want)
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Writer cuts what is written to it into Data frames of at most
// MaxPayload bytes, and counts them for the End frame. No hash of the
// whole stream is needed on top of the frames' tags: each tag covers its
// frame's position, so the End frame, itself tagged, proves that every
// frame before it arrived, in order and intact. (A whole-stream SHA-256
// was two more passes over the memory during the downtime.)
type Writer struct {
	c   *Conn
	buf []byte
	n   int64
}

// NewWriter writes Data frames on c.
func (c *Conn) NewWriter() *Writer {
	return &Writer{c: c, buf: make([]byte, 0, MaxPayload)}
}

func (w *Writer) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := min(len(p), MaxPayload-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		w.c.data.Add(int64(k))
		if len(w.buf) == MaxPayload {
			if err := w.flush(); err != nil {
				return total - len(p) - k, err
			}
		}
	}
	return total, nil
}

func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	w.n += int64(len(w.buf))
	err := w.c.write(Data, w.buf)
	w.buf = w.buf[:0]
	return err
}

// EndInfo is the End frame's payload.
type EndInfo struct {
	Bytes int64 `json:"bytes"`
}

// Close sends what is buffered and the End frame.
func (w *Writer) Close() (EndInfo, error) {
	if err := w.flush(); err != nil {
		return EndInfo{}, err
	}
	end := EndInfo{Bytes: w.n}
	return end, w.c.SendJSON(End, end)
}

// ReceiveData copies Data frames to dst until the End frame, whose length
// must match what arrived, and returns the number of bytes. At most
// limit bytes are accepted.
func (c *Conn) ReceiveData(dst io.Writer, limit int64) (int64, error) {
	return c.ReceiveDataAndPages(dst, limit, nil)
}

// ReceiveDataAndPages is ReceiveData that also accepts Pages frames,
// before and among the Data frames, and gives each verified payload to
// pages (valid until it returns); an error from pages ends the stream.
// It answers a Sync frame with Synced: every Pages frame before it was
// given to pages (the source waits for that before it pauses the
// program, so that the pause does not wait for a backlog). With pages
// nil, Pages and Sync frames are unexpected.
func (c *Conn) ReceiveDataAndPages(dst io.Writer, limit int64, pages func([]byte) error) (int64, error) {
	var n int64
	for {
		k, b, err := c.Recv()
		if err != nil {
			return n, err
		}
		switch k {
		case Data:
			if n+int64(len(b)) > limit {
				return n, fmt.Errorf("the checkpoint exceeds the %d bytes this daemon accepts", limit)
			}
			n += int64(len(b))
			if _, err := dst.Write(b); err != nil {
				return n, err
			}
		case Pages:
			if pages == nil {
				return n, unexpectedKind(k, Data, b)
			}
			if err := pages(b); err != nil {
				return n, err
			}
		case Sync:
			if pages == nil {
				return n, unexpectedKind(k, Data, b)
			}
			if err := c.Send(Synced, nil); err != nil {
				return n, err
			}
		case End:
			var end EndInfo
			if err := json.Unmarshal(b, &end); err != nil {
				return n, fmt.Errorf("%w: end frame: %v", ErrIntegrity, err)
			}
			if end.Bytes != n {
				return n, fmt.Errorf("%w: %d bytes arrived, the source sent %d", ErrIntegrity, n, end.Bytes)
			}
			return n, nil
		default:
			return n, unexpectedKind(k, Data, b)
		}
	}
}
