// Package evidence keeps the content a rule quarantines or reports — the
// only uploaded bytes Safeguard keeps — in a directory, the database or a
// bucket (Files), each item encrypted with AES-256-GCM under its own random
// data key, in segments, so an item streams to its file.
//
// Each data key is wrapped (AES-256-GCM again) by a master key from the
// configuration, and the item records which one, so a new master key can be
// introduced without re-encrypting anything: old items stay readable while
// the keyring holds their key, and Rewrap moves an item to the new key by
// rewrapping 32 bytes. The SHA-256 of the content is recorded at intake (it
// goes into law-enforcement reports and the audit log) and checked on every
// read of the content (Get, Open, Verify; Describe reads only the
// description). The format is fixed in docs/audit.md.
package evidence

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
)

// Meta says what an item is and why it was kept. It is encrypted with the
// content: account and content ids are personal data.
type Meta struct {
	ContentType string `json:"content_type,omitempty"` // e.g. "image/jpeg"
	ContentID   string `json:"content_id,omitempty"`   // the platform's id for the content
	AccountID   string `json:"account_id,omitempty"`   // the platform's id for the uploader
	Source      string `json:"source,omitempty"`       // how it came in: "scan", "report", …
	Reason      string `json:"reason,omitempty"`       // the rule and action that preserved it
	// PDQ is the content's PDQ hash (64 hex digits) as the caller computed
	// it at intake; empty for content that is not an image.
	PDQ string `json:"pdq,omitempty"`
	// Jurisdiction names the law the content is kept under (e.g. "US"); it
	// chooses the preservation hold (Store.Holds). Empty is the default.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Upload is what the platform said about the upload, if anything: a
	// law-enforcement report's IP capture event comes from it. It is kept
	// only here, encrypted with the content it concerns.
	Upload *Upload `json:"upload,omitempty"`
}

// Upload is the platform's account of one upload: where from and when.
// The CyberTipline's form has a field for each.
type Upload struct {
	IP        string    `json:"ip,omitempty"`   // the uploader's address, as text
	Port      int       `json:"port,omitempty"` // the uploader's source port
	Time      time.Time `json:"time,omitzero"`  // when the platform received it
	UserAgent string    `json:"user_agent,omitempty"`
	FileName  string    `json:"file_name,omitempty"` // the name the file had on the uploader's device
}

// stored is the metadata as the item file keeps it: the caller's Meta and
// what Put computed. Older items lack md5; read computes it for them.
type stored struct {
	Meta
	MD5 string `json:"md5,omitempty"`
}

// Item describes a stored item.
type Item struct {
	ID      string    `json:"id"` // 32 lower-case hex digits
	Created time.Time `json:"created"`
	KeyID   string    `json:"key_id"` // the master key that wraps its data key
	Size    int64     `json:"size"`   // of the content
	SHA256  Digest    `json:"sha256"` // of the content, recorded at intake
	// MD5 of the content, recorded at intake: hotlines and hash lists
	// still ask for it, though it proves nothing SHA-256 does not.
	MD5  MD5  `json:"md5"`
	Meta Meta `json:"meta"`
}

// MD5 is an MD5 digest; in text and JSON, 32 lower-case hex digits.
type MD5 [md5.Size]byte

func (d MD5) String() string { return hex.EncodeToString(d[:]) }

// MarshalText implements encoding.TextMarshaler.
func (d MD5) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Digest is a SHA-256; in text and JSON, 64 lower-case hex digits, the form
// law-enforcement reports and hash lists use.
type Digest [32]byte

func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Errors, wrapped with the item's id.
var (
	ErrNotFound = derrors.New(derrors.NotFound, "no such evidence item")
	// ErrUnknownKey: the item was sealed under a master key the keyring
	// no longer holds. Asking again will not help (no Retry-After): an
	// operator must put the key back (SAFEGUARD_EVIDENCE_KEYS) or rewrap.
	ErrUnknownKey = derrors.New(derrors.WrongState, "master key not in the keyring").WithCode("evidence_key_missing")
	ErrCorrupt    = errors.New("evidence item fails its integrity check")
	ErrTooLarge   = derrors.New(derrors.TooLarge, "evidence item too large")
)

// DefaultMaxSize is the largest content Open's Store takes.
const DefaultMaxSize = 128 << 20

// MaxMeta bounds the encoded metadata of an item.
const MaxMeta = 64 << 10

const (
	suffix    = ".sgev"
	tmpPrefix = ".tmp-"
)

// Store is an evidence store: a directory (Open), or Files that several
// servers share (OpenFiles). It is safe for concurrent use.
type Store struct {
	files   Files
	keyring *Keyring
	// MaxSize is the largest content Put accepts, and so bounds the file
	// Get reads into memory: DefaultMaxSize unless changed before the Store
	// is used. Lowering it makes larger items already kept unreadable.
	MaxSize int64
	// Holds is the preservation policy new items get; DefaultHolds unless
	// changed before the Store is used.
	Holds Holds
	// Now is the clock holds are judged by; time.Now if nil.
	Now func() time.Time

	mu sync.Mutex // serializes changes to holds and deletions
}

// Open returns the evidence directory dir, creating it (readable only by
// its owner) if needed, with the keys of keyring. It removes temporary files
// left by writes a crash interrupted.
func Open(dir string, keyring *Keyring) (*Store, error) {
	if keyring == nil {
		return nil, fmt.Errorf("evidence: open %s: no keyring", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence: open: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence: open: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence: open: %w", err)
	}
	for _, e := range entries {
		// An hour's margin leaves alone a write another process is making.
		if info, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), tmpPrefix) && time.Since(info.ModTime()) > time.Hour {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return OpenFiles(Dir(dir), keyring)
}

// OpenFiles returns the evidence store keeping its files in files, with
// the keys of keyring. Items are sealed as Open's are, so files learns
// nothing of their content.
func OpenFiles(files Files, keyring *Keyring) (*Store, error) {
	if keyring == nil {
		return nil, errors.New("evidence: open: no keyring")
	}
	return &Store{files: files, keyring: keyring, MaxSize: DefaultMaxSize, Holds: DefaultHolds()}, nil
}

// Put keeps data as a new item: PutFrom of content already in memory.
func (s *Store) Put(data []byte, meta Meta) (Item, error) {
	return s.PutFrom(bytes.NewReader(data), int64(len(data)), meta)
}

// PutFrom encrypts the size bytes of content and writes them as a new
// item, durably (the file and the directory are synced before PutFrom
// returns) and atomically (a crash leaves either the whole item or none).
// A size over MaxSize is refused before a byte is read.
//
// Content is read twice, a segment at a time, never whole: once for its
// SHA-256 and MD5, which the item records before the content (the format
// of docs/audit.md), and once to seal it as Files writes it. So keeping a
// spooled video of 100 MB holds one segment (64 KiB) and Files' own
// buffer, not 100 MB. Content that changes between the two reads fails
// the write (ErrCorrupt) and nothing is kept.
func (s *Store) PutFrom(content io.ReaderAt, size int64, meta Meta) (Item, error) {
	if size <= 0 {
		return Item{}, errors.New("evidence: put: no content")
	}
	if size > s.MaxSize {
		return Item{}, fmt.Errorf("evidence: put: %d bytes, more than %d: %w", size, s.MaxSize, ErrTooLarge)
	}
	sha, md := sha256.New(), md5.New()
	if n, err := io.Copy(io.MultiWriter(sha, md), io.NewSectionReader(content, 0, size)); err != nil {
		return Item{}, fmt.Errorf("evidence: put: reading the content: %w", err)
	} else if n != size {
		return Item{}, fmt.Errorf("evidence: put: the content is %d bytes, not the %d said", n, size)
	}
	var sum Digest
	var sumMD5 MD5
	sha.Sum(sum[:0])
	md.Sum(sumMD5[:0])
	mj, err := json.Marshal(stored{Meta: meta, MD5: sumMD5.String()})
	if err != nil {
		return Item{}, fmt.Errorf("evidence: put: metadata: %w", err)
	}
	if len(mj) > MaxMeta {
		return Item{}, fmt.Errorf("evidence: put: metadata is %d bytes, more than %d: %w", len(mj), MaxMeta, ErrTooLarge)
	}
	h := header{version: version2, created: time.Now().UnixNano(), keyID: s.keyring.current}
	rand.Read(h.id[:]) // crypto/rand never fails; it crashes the program rather than return weak bytes
	rand.Read(h.bodyNonce[:])
	var dataKey [dataKeyLen]byte
	rand.Read(dataKey[:])
	prefix := make([]byte, 0, 36+len(mj))
	prefix = append(prefix, sum[:]...)
	prefix = binary.BigEndian.AppendUint32(prefix, uint32(len(mj)))
	prefix = append(prefix, mj...)
	n := int64(len(prefix)) + size
	h.bodyLen = uint64(sealedLen(n))
	s.wrap(&h, dataKey[:])
	again := &unchanged{r: io.NewSectionReader(content, 0, size), left: size, h: sha256.New(), want: sum}
	sealed := newSealer(&h, newGCM(dataKey[:]), io.MultiReader(bytes.NewReader(prefix), again), n)

	id := hex.EncodeToString(h.id[:])
	created := time.Unix(0, h.created).UTC()
	// The hold first, so an item never exists without one. (Were it lost
	// anyway, Hold would still hold the item the default term.)
	if err := s.putHold(id, s.initialHold(created, meta.Jurisdiction)); err != nil {
		return Item{}, err
	}
	if err := s.writeFile(id, id+suffix, sealed); err != nil {
		s.files.Remove(id + holdSuffix)
		return Item{}, err
	}
	return Item{
		ID:      id,
		Created: created,
		KeyID:   h.keyID,
		Size:    size,
		SHA256:  sum,
		MD5:     sumMD5,
		Meta:    meta,
	}, nil
}

// unchanged reads the content a second time, hashing it, and fails
// instead of yielding its last bytes if they do not hash as the first
// read did: the item's recorded SHA-256 would not be its content's, and
// Files drops a write whose reader fails.
type unchanged struct {
	r    io.Reader
	left int64
	h    hash.Hash
	want Digest
}

func (u *unchanged) Read(p []byte) (int, error) {
	if u.left == 0 {
		return 0, io.EOF
	}
	n, err := u.r.Read(p[:min(int64(len(p)), u.left)])
	u.h.Write(p[:n])
	u.left -= int64(n)
	if u.left == 0 && Digest(u.h.Sum(nil)) != u.want {
		return 0, fmt.Errorf("evidence: put: the content changed while it was kept: %w", ErrCorrupt)
	}
	if err == io.EOF && u.left > 0 {
		return n, fmt.Errorf("evidence: put: the content ended %d bytes early on its second read: %w", u.left, ErrCorrupt)
	}
	if u.left == 0 {
		err = nil
	}
	return n, err
}

// wrap encrypts dataKey under the keyring's master key h.keyID into h.
func (s *Store) wrap(h *header, dataKey []byte) {
	rand.Read(h.wrapNonce[:])
	s.keyring.keys[h.keyID].Seal(h.wrappedKey[:0], h.wrapNonce[:], dataKey, h.wrapAD())
}

func newGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // only for a key length other than 16, 24 or 32
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return gcm
}

// Reading an item. Every read checks the header (the item id it names,
// the body length against the file's size), unwraps the data key and
// authenticates the segments holding the SHA-256 and metadata recorded at
// intake; what else it checks depends on what the caller promises:
//
//   - Describe stops there: the item's description, authentic, in the
//     memory of a segment or two; the content is not read, so an
//     alteration after its first segment goes unseen. For holds.
//   - Open streams the content, each segment authenticated before its
//     bytes are released and the content's SHA-256 and MD5 checked against
//     those recorded on the read that reaches its end, so a reader gets
//     the content or an error, at the segment where the file is not the
//     item, never a byte that is not the item's.
//   - Verify is Open read through: every segment and both digests, in
//     constant memory. For a description that vouches for the content
//     (reports, an item's description to an auditor).
//   - Get is Open read into memory, for callers that need the bytes whole
//     (hotline packages, CyberTipline uploads), bounded by MaxSize.
//
// A version 1 item is one GCM message, which authenticates only once read
// whole: each of these reads a version 1 item whole into memory.
//
// Errors wrap ErrNotFound, ErrUnknownKey (the keyring lacks the master key
// that wrapped the item), ErrCorrupt (it was altered, or the keyring's key
// of that id is not the one that wrapped it) or, for Get, ErrTooLarge.

// Get reads item id whole and checks it as Open does, returning its
// content and description.
func (s *Store) Get(id string) ([]byte, Item, error) {
	c, item, _, err := s.open(id, nil, true)
	if err != nil {
		return nil, Item{}, err
	}
	defer c.Close()
	data := c.whole
	if data == nil {
		data = make([]byte, item.Size)
		if _, err := io.ReadFull(c, data); err != nil {
			return nil, Item{}, err
		}
	} else if _, err := io.Copy(io.Discard, c); err != nil {
		return nil, Item{}, err
	}
	item.MD5 = c.md5
	return data, item, nil
}

// Open returns a reader of item id's content and its description. The
// reader yields a segment (64 KiB) at a time, each only once it
// authenticates; its error, wrapping ErrCorrupt, names the segment where
// the file is not the item, and the content's digests are checked on the
// read that reaches its end (which then yields an error, not the last
// bytes, if they differ). The caller closes it. The description's MD5 is
// zero for an item kept before MD5s were recorded (Get and Verify compute
// it).
func (s *Store) Open(id string) (io.ReadCloser, Item, error) {
	c, item, _, err := s.open(id, nil, false)
	if err != nil {
		return nil, Item{}, err
	}
	return c, item, nil
}

// Describe returns item id's description, authenticated, without reading
// its content (beyond the first segment it shares with the metadata): a
// content altered later in the file is not noticed. Version 1 items are
// read whole. As Open's, its MD5 is zero for an item kept before MD5s
// were recorded.
func (s *Store) Describe(id string) (Item, error) {
	c, item, _, err := s.open(id, nil, false)
	if err != nil {
		return Item{}, err
	}
	c.Close()
	return item, nil
}

// Verify reads item id through, checking every segment and the digests
// recorded at intake as Open does, holding a segment at a time, and
// returns its description.
func (s *Store) Verify(id string) (Item, error) {
	c, item, _, err := s.open(id, nil, false)
	if err != nil {
		return Item{}, err
	}
	defer c.Close()
	if _, err := io.Copy(io.Discard, c); err != nil {
		return Item{}, err
	}
	item.MD5 = c.md5
	return item, nil
}

// itemReader is an item's content as Open reads it: the body's plaintext
// past the metadata, hashed as it goes.
type itemReader struct {
	id      string
	body    io.Reader // the body's plaintext, positioned at the content
	file    io.Closer
	whole   []byte // a version 1 item's content, read whole; nil for version 2
	left    int64  // content bytes not yet read
	sha, md hash.Hash
	want    Digest
	wantMD5 string // empty for items kept before MD5 was recorded
	md5     MD5    // of the content, once read through
	err     error  // sticky: a failure, or io.EOF once read through
}

func (c *itemReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.read(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *itemReader) read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n, err := c.body.Read(p[:min(int64(len(p)), c.left)])
	c.sha.Write(p[:n])
	c.md.Write(p[:n])
	c.left -= int64(n)
	if c.left > 0 {
		if err == io.EOF {
			err = fmt.Errorf("content ends %d bytes early: %w", c.left, ErrCorrupt)
		}
		return n, c.wrap(err)
	}
	// The last bytes. Authenticated decryption makes the digests' checks
	// unreachable for an item this package wrote; they guard against one
	// it did not. The body must end here, its end authenticated.
	if Digest(c.sha.Sum(nil)) != c.want {
		return 0, c.wrap(fmt.Errorf("content does not match the SHA-256 recorded at intake: %w", ErrCorrupt))
	}
	if c.md5 = MD5(c.md.Sum(nil)); c.wantMD5 != "" && c.wantMD5 != c.md5.String() {
		return 0, c.wrap(fmt.Errorf("content does not match the MD5 recorded at intake: %w", ErrCorrupt))
	}
	if err == nil {
		var b [1]byte
		var m int
		if m, err = c.body.Read(b[:]); m > 0 {
			err = fmt.Errorf("the body goes on past the content: %w", ErrCorrupt)
		}
	}
	if err == io.EOF {
		err = nil
	}
	if err != nil {
		return 0, c.wrap(err)
	}
	return n, nil
}

func (c *itemReader) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("evidence: item %s: %w", c.id, err)
}

func (c *itemReader) Close() error { return c.file.Close() }

// open opens item id, checks its header, unwraps its data key and reads
// its SHA-256 and metadata, leaving the content to read. It returns also,
// for Rewrap, the file's header and data key; sealed, if set, gets the
// body's sealed bytes as they are read. If inMemory is set (Get), or the
// item is version 1, a file larger than MaxSize allows is refused before
// it is read.
func (s *Store) open(id string, sealed io.Writer, inMemory bool) (c *itemReader, item Item, r readState, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("evidence: item %s: %w", id, err)
		}
	}()
	name, err := s.name(id)
	if err != nil {
		return nil, Item{}, r, err
	}
	rc, info, err := s.files.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Item{}, r, ErrNotFound
	}
	if err != nil {
		return nil, Item{}, r, err
	}
	defer func() {
		if err != nil {
			rc.Close()
		}
	}()
	limit := sealedLen(s.MaxSize+MaxMeta+36) + fixedSize + 1 + maxKeyID + nonceSize + wrappedLen
	if inMemory && info.Size > limit {
		return nil, Item{}, r, fmt.Errorf("file is %d bytes, more than an item can be (%d): %w", info.Size, limit, ErrTooLarge)
	}
	h, hb, err := readHeader(rc)
	if err != nil {
		return nil, Item{}, r, err
	}
	if got := hex.EncodeToString(h.id[:]); got != id {
		return nil, Item{}, r, fmt.Errorf("the file holds item %s (renamed?): %w", got, ErrCorrupt)
	}
	if size := uint64(info.Size) - uint64(len(hb)); size != h.bodyLen {
		return nil, Item{}, r, fmt.Errorf("body is %d bytes, the header says %d (cut short or appended to): %w", size, h.bodyLen, ErrCorrupt)
	}
	master, ok := s.keyring.keys[h.keyID]
	if !ok {
		return nil, Item{}, r, fmt.Errorf("wrapped by master key %q; the keyring holds %v: %w", h.keyID, s.keyring.IDs(), ErrUnknownKey)
	}
	dataKey, err := master.Open(nil, h.wrapNonce[:], h.wrappedKey[:], h.wrapAD())
	if err != nil {
		return nil, Item{}, r, fmt.Errorf("data key does not unwrap under master key %q (the wrong key under that id, or the header was altered): %w", h.keyID, ErrCorrupt)
	}
	var body io.Reader
	var whole []byte
	plain, _ := plainLen(h.bodyLen) // newSegments refuses a length that is none
	if h.version == version1 {
		// Read whole into memory, so bounded as Get's reads are.
		if info.Size > limit {
			return nil, Item{}, r, fmt.Errorf("file is %d bytes, more than an item can be (%d): %w", info.Size, limit, ErrTooLarge)
		}
		if whole, err = openWhole(rc, &h, hb, newGCM(dataKey), sealed); err != nil {
			return nil, Item{}, r, err
		}
		plain = uint64(len(whole))
		body = bytes.NewReader(whole)
	} else if body, err = newSegments(rc, &h, hb, newGCM(dataKey), sealed); err != nil {
		return nil, Item{}, r, err
	}
	var prefix [36]byte
	if _, err := io.ReadFull(body, prefix[:]); err != nil {
		return nil, Item{}, r, prefixErr(err)
	}
	n := binary.BigEndian.Uint32(prefix[32:])
	if n > MaxMeta || uint64(n) > plain-36 {
		return nil, Item{}, r, fmt.Errorf("metadata length %d overruns the body or exceeds %d: %w", n, MaxMeta, ErrCorrupt)
	}
	mj := make([]byte, n)
	if _, err := io.ReadFull(body, mj); err != nil {
		return nil, Item{}, r, prefixErr(err)
	}
	var meta stored
	if err := json.Unmarshal(mj, &meta); err != nil {
		return nil, Item{}, r, fmt.Errorf("metadata: %v: %w", err, ErrCorrupt)
	}
	c = &itemReader{id: id, body: body, file: rc, left: int64(plain - 36 - uint64(n)), sha: sha256.New(), md: md5.New(), wantMD5: meta.MD5}
	copy(c.want[:], prefix[:32])
	if whole != nil {
		c.whole = whole[36+n:]
	}
	item = Item{
		ID:      id,
		Created: time.Unix(0, h.created).UTC(),
		KeyID:   h.keyID,
		Size:    c.left,
		SHA256:  c.want,
		Meta:    meta.Meta,
	}
	if meta.MD5 != "" {
		if b, err := hex.DecodeString(meta.MD5); err == nil && len(b) == md5.Size {
			copy(item.MD5[:], b)
		} else {
			return nil, Item{}, r, fmt.Errorf("metadata: MD5 %q is not one: %w", meta.MD5, ErrCorrupt)
		}
	}
	return c, item, readState{h: h, dataKey: dataKey}, nil
}

// prefixErr says why the SHA-256 and metadata could not be read: the
// segments' own error, or a body too short to hold them.
func prefixErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("body too short for its metadata: %w", ErrCorrupt)
	}
	return err
}

// Has says whether item id is in the store, without reading it; an id
// that is not an item id is not.
func (s *Store) Has(id string) (bool, error) {
	name, err := s.name(id)
	if err != nil {
		return false, nil
	}
	rc, _, err := s.files.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("evidence: item %s: %w", id, err)
	}
	rc.Close()
	return true, nil
}

type readState struct {
	h       header
	dataKey []byte
}

// Rewrap wraps item id's data key under master key keyID (which must be in
// the keyring) instead of the one that wraps it now, leaving the encrypted
// content as it is. The item is checked through (as Verify does) while
// its new file is written, a segment at a time, and one that does not
// check is left as it was, so a rotation also verifies every item it
// moves. An item already under keyID is left alone, unread past its
// metadata. Once every item is rewrapped, the old master key can leave
// the keyring.
func (s *Store) Rewrap(id, keyID string) error {
	_, err := s.rewrap(id, keyID)
	return err
}

// rewrap is Rewrap, also reporting whether the item moved.
func (s *Store) rewrap(id, keyID string) (moved bool, err error) {
	if _, ok := s.keyring.keys[keyID]; !ok {
		return false, fmt.Errorf("evidence: rewrap item %s: master key %q: %w", id, keyID, ErrUnknownKey)
	}
	sealed := new(bytes.Buffer)
	c, item, r, err := s.open(id, sealed, false)
	if err != nil {
		return false, err
	}
	defer c.Close()
	if item.KeyID == keyID {
		return false, nil
	}
	h := r.h
	h.keyID = keyID
	s.wrap(&h, r.dataKey)
	return true, s.writeFile(id, id+suffix, io.MultiReader(bytes.NewReader(h.append(nil)), &passThrough{c: c, sealed: sealed, scratch: make([]byte, segSize)}))
}

// passThrough yields the sealed body of the item c reads, a segment at a
// time as each authenticates, and fails, so Files drops the write, if the
// item does not check through to its digests: Rewrap writes an item it
// has verified whole while holding a segment of it.
type passThrough struct {
	c       *itemReader
	sealed  *bytes.Buffer // the segments c has opened and p not yet yielded
	scratch []byte
}

func (p *passThrough) Read(b []byte) (int, error) {
	for p.sealed.Len() == 0 {
		if _, err := p.c.Read(p.scratch); err != nil {
			return 0, err
		}
	}
	return p.sealed.Read(b)
}

// name returns the file of item id, refusing anything but an item id (and
// so any path outside the directory).
func (s *Store) name(id string) (string, error) {
	if len(id) != 2*idSize || strings.ToLower(id) != id {
		return "", fmt.Errorf("not an item id (want %d lower-case hex digits): %w", 2*idSize, ErrNotFound)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", fmt.Errorf("not an item id (want %d lower-case hex digits): %w", 2*idSize, ErrNotFound)
	}
	return id + suffix, nil
}

// writeFile puts what r yields in file name atomically; id names the item
// in errors.
func (s *Store) writeFile(id, name string, r io.Reader) error {
	if err := s.files.Write(name, r); err != nil {
		return fmt.Errorf("evidence: writing item %s: %w", id, err)
	}
	return nil
}

// IDs yields the id of every item in the store, in no set order.
func (s *Store) IDs() iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for name, err := range s.files.Names() {
			if err != nil {
				yield("", fmt.Errorf("evidence: listing items: %w", err))
				return
			}
			id, ok := strings.CutSuffix(name, suffix)
			if !ok {
				continue
			}
			if _, err := s.name(id); err != nil {
				continue // not ours
			}
			if !yield(id, nil) {
				return
			}
		}
	}
}

// RewrapAll rewraps every item not yet under master key keyID, the last
// step of a rotation. It carries on past items it cannot read and returns
// how many it moved and every failure, joined.
func (s *Store) RewrapAll(ctx context.Context, keyID string) (moved int, err error) {
	var errs []error
	for id, err := range s.IDs() {
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return moved, errors.Join(append(errs, err)...)
		}
		switch ok, err := s.rewrap(id, keyID); {
		case err != nil:
			errs = append(errs, err)
		case ok:
			moved++
		}
	}
	return moved, errors.Join(errs...)
}
