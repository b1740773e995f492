package match

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/hamming"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// Marks is what the store keeps so that a matcher's snapshot cannot make
// it skip changes: the store's identity (made when its schema was
// created) and a mark for every snapshot a matcher took, naming the
// change-feed position it covers.
//
// The mark is written to the store after the snapshot's position is in
// the feed and before the snapshot file replaces the last one. So a
// database that holds the mark holds every change up to that position, in
// the history the snapshot saw: a backup restored from before the
// snapshot lacks the mark (its feed may hand the same numbers to other
// changes), and so does any other database. Either way the matcher loads
// from the feed instead.
type Marks interface {
	// StoreIdentity returns the store's identity, the same for the life
	// of its database (a copy or a restore keeps it).
	StoreIdentity(ctx context.Context) (string, error)
	// PutIndexMark records a snapshot's token and feed position.
	PutIndexMark(ctx context.Context, token string, seq int64) error
	// IndexMark returns the position put with token; ok is false when the
	// store has no such mark.
	IndexMark(ctx context.Context, token string) (seq int64, ok bool, err error)
	// DropIndexMark removes a mark (none is not an error).
	DropIndexMark(ctx context.Context, token string) error
}

// ErrLoading is returned (wrapped) by Match while Load runs: answering "no
// match" before the banks are known would pass content they list.
var ErrLoading = derrors.New(derrors.Unavailable, "the index is loading")

// A snapshot file is
//
//	"SGMATCH1" version:u32 identity token (each u32 length + bytes) seq:i64
//	the PDQ index (hamming's snapshot), the vPDQ index (vpdq's),
//	digests:u64, per digest key (u32 length + bytes) ids (u32 count + u64s)
//	CRC-32C of all the above: u32
const (
	snapMagic   = "SGMATCH1"
	snapVersion = 1
	// maxSnapKey bounds a digest key ("sha256:" and 32 bytes) and the
	// identity and token strings, so a corrupt length cannot allocate much.
	maxSnapKey = 256
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// LoadInfo says how Load filled the index.
type LoadInfo struct {
	// Snapshot is set when the snapshot was used; Refused, when there was
	// a snapshot that was not, says why (it is logged; the feed was read).
	Snapshot bool
	Refused  error
	// Changes is how many changes the feed gave after the snapshot (or in
	// all, without it).
	Changes int64
	Took    time.Duration
}

// Loading makes Match answer ErrLoading and Sync do nothing until Load
// finishes: a server calls it before it opens its ports and loads after.
func (m *Matcher) Loading() {
	m.mu.Lock()
	m.loading = true
	m.mu.Unlock()
}

// Load fills an empty matcher: from the snapshot at path when the store
// holds its mark, then from the feed after the snapshot's position; else
// (no file, a file of another database or of a restored one, a corrupt
// file) from the whole feed. An empty path skips the snapshot. Match
// answers ErrLoading until Load returns.
func (m *Matcher) Load(ctx context.Context, path string) (LoadInfo, error) {
	start := time.Now()
	m.Loading()
	defer func() {
		m.mu.Lock()
		m.loading = false
		m.mu.Unlock()
	}()
	var info LoadInfo
	if path != "" {
		err := m.readSnapshot(ctx, path)
		switch {
		case err == nil:
			info.Snapshot = true
		case !errors.Is(err, os.ErrNotExist):
			info.Refused = err
		}
	}
	m.mu.RLock()
	from := m.seq
	m.mu.RUnlock()
	if err := m.sync(ctx); err != nil {
		return info, err
	}
	m.mu.Lock()
	m.loading = false
	info.Changes = m.seq - from
	m.mu.Unlock()
	// A write that committed after the feed was read to its end had its
	// Sync skipped while loading: read the feed once more.
	if err := m.sync(ctx); err != nil {
		return info, err
	}
	info.Took = time.Since(start)
	return info, nil
}

// readSnapshot replaces the index with the snapshot at path if it is one
// of this store's history.
func (m *Matcher) readSnapshot(ctx context.Context, path string) error {
	marks, ok := m.st.(Marks)
	if !ok {
		return errors.New("match: the store keeps no snapshot marks")
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := &crcReader{r: bufio.NewReaderSize(f, 1<<20)}
	var head [12]byte
	if _, err := io.ReadFull(r, head[:]); err != nil || string(head[:8]) != snapMagic {
		return fmt.Errorf("match: %s: not a matcher snapshot", path)
	}
	if v := binary.LittleEndian.Uint32(head[8:]); v != snapVersion {
		return fmt.Errorf("match: %s: version %d, want %d", path, v, snapVersion)
	}
	identity, err := readString(r)
	if err != nil {
		return fmt.Errorf("match: %s: %w", path, err)
	}
	token, err := readString(r)
	if err != nil {
		return fmt.Errorf("match: %s: %w", path, err)
	}
	seq, err := readU64(r)
	if err != nil {
		return fmt.Errorf("match: %s: %w", path, err)
	}
	// Check the store before reading the bulk: a refused snapshot costs a
	// header, not its gigabytes.
	have, err := marks.StoreIdentity(ctx)
	if err != nil {
		return fmt.Errorf("match: store identity: %w", err)
	}
	if have != identity {
		return fmt.Errorf("match: %s is a snapshot of another database (store %s, this one %s)", path, identity, have)
	}
	markSeq, ok, err := marks.IndexMark(ctx, token)
	if err != nil {
		return fmt.Errorf("match: snapshot mark: %w", err)
	}
	if !ok || markSeq != int64(seq) {
		return fmt.Errorf("match: %s: the store has no mark of this snapshot (restored from a backup older than it?)", path)
	}
	pdqIx, err := hamming.Read(r)
	if err != nil {
		return fmt.Errorf("match: %s: %w", path, err)
	}
	video, err := vpdq.ReadIndex(r, vpdq.DefaultRule)
	if err != nil {
		return fmt.Errorf("match: %s: %w", path, err)
	}
	exact, err := readExact(r)
	if err != nil {
		return fmt.Errorf("match: %s: digests: %w", path, err)
	}
	sum := r.crc
	stored, err := readU32(r)
	if err != nil || stored != sum {
		return fmt.Errorf("match: %s: checksum %08x, want %08x: the snapshot is corrupt", path, sum, stored)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pdq, m.video, m.exact, m.seq, m.token = pdqIx, video, exact, int64(seq), token
	return nil
}

func readExact(r io.Reader) (*digests, error) {
	n, err := readU64(r)
	if err != nil {
		return nil, err
	}
	exact := newDigests()
	for range n {
		key, err := readString(r)
		if err != nil {
			return nil, err
		}
		k, err := readU32(r)
		if err != nil {
			return nil, err
		}
		if _, dup := exact.ids[key]; dup || k == 0 || k > 1<<20 {
			return nil, fmt.Errorf("digest key repeated or with %d ids", k)
		}
		ids := make([]uint64, k)
		if err := binary.Read(r, binary.LittleEndian, ids); err != nil {
			return nil, errors.New("truncated")
		}
		exact.ids[key] = ids
		exact.n += len(ids)
	}
	return exact, nil
}

// WriteSnapshot saves the index to path (through a temporary file beside
// it, renamed over it), after putting its mark in the store. Writes to the
// index wait while it is written (searches do not): about 2.5 s at 10 M
// codes. A matcher that is loading, or was never loaded, writes nothing.
func (m *Matcher) WriteSnapshot(ctx context.Context, path string) error {
	marks, ok := m.st.(Marks)
	if !ok {
		return errors.New("match: the store keeps no snapshot marks")
	}
	identity, err := marks.StoreIdentity(ctx)
	if err != nil {
		return fmt.Errorf("match: store identity: %w", err)
	}
	var raw [16]byte
	rand.Read(raw[:])
	token := hex.EncodeToString(raw[:])
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("match: snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	seq, prev, wrote, err := m.encode(tmp, identity, token)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil || !wrote {
		return err
	}
	if err := marks.PutIndexMark(ctx, token, seq); err != nil {
		return fmt.Errorf("match: snapshot mark: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("match: snapshot: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	m.mu.Lock()
	m.token = token
	m.mu.Unlock()
	if prev != "" && prev != token {
		// The file it marked is gone; a failure leaves a stale row only.
		if err := marks.DropIndexMark(ctx, prev); err != nil {
			return fmt.Errorf("match: dropping the last snapshot's mark: %w", err)
		}
	}
	return nil
}

// encode writes the snapshot under the read lock and returns the position
// it covers and the token of the snapshot it replaces.
func (m *Matcher) encode(w io.Writer, identity, token string) (seq int64, prev string, wrote bool, err error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.loading || m.synced.IsZero() {
		return 0, "", false, nil
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &crcWriter{w: bw}
	head := append([]byte(snapMagic), binary.LittleEndian.AppendUint32(nil, snapVersion)...)
	head = appendString(appendString(head, identity), token)
	head = binary.LittleEndian.AppendUint64(head, uint64(m.seq))
	cw.Write(head)
	if _, err := m.pdq.WriteTo(cw); err != nil {
		return 0, "", false, err
	}
	if _, err := m.video.WriteTo(cw); err != nil {
		return 0, "", false, err
	}
	buf := binary.LittleEndian.AppendUint64(nil, uint64(len(m.exact.ids)))
	for key, ids := range m.exact.ids {
		buf = binary.LittleEndian.AppendUint32(appendString(buf, key), uint32(len(ids)))
		for _, id := range ids {
			buf = binary.LittleEndian.AppendUint64(buf, id)
		}
		if len(buf) > 1<<16 {
			cw.Write(buf)
			buf = buf[:0]
		}
	}
	cw.Write(buf)
	bw.Write(binary.LittleEndian.AppendUint32(nil, cw.crc))
	if cw.err != nil {
		return 0, "", false, cw.err
	}
	return m.seq, m.token, true, bw.Flush()
}

func appendString(b []byte, s string) []byte {
	return append(binary.LittleEndian.AppendUint32(b, uint32(len(s))), s...)
}

func readString(r io.Reader) (string, error) {
	n, err := readU32(r)
	if err != nil {
		return "", err
	}
	if n > maxSnapKey {
		return "", fmt.Errorf("a string of %d bytes, want at most %d", n, maxSnapKey)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", errors.New("truncated")
	}
	return string(b), nil
}

func readU32(r io.Reader) (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, errors.New("truncated")
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func readU64(r io.Reader) (uint64, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, errors.New("truncated")
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// crcReader and crcWriter checksum what passes through them.
type crcReader struct {
	r   io.Reader
	crc uint32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	return n, err
}

type crcWriter struct {
	w   io.Writer
	crc uint32
	err error
}

func (c *crcWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	c.crc = crc32.Update(c.crc, castagnoli, p)
	n, err := c.w.Write(p)
	c.err = err
	return n, err
}
