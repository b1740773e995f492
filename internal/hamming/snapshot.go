package hamming

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/bits"
)

// A snapshot is the index's own arrays, flat and little-endian, so that
// loading is reading, not building:
//
//	"SGHAMIDX" version:u32 segments:u32 pending:u64
//	per segment: n:u64 dead:u64 width:u32 tables:u32
//	             codes n×4×u64 (most significant word first), ids n×u64,
//	             byID n×u32, dead bits ⌈n/64⌉×u64 when dead > 0,
//	             per table: offsets (2^width+1)×u32, postings n×u32 (not table 0)
//	pending codes and ids
//	CRC-32C of all the above: u32
//
// Read checks every invariant a search relies on, so a corrupt or hostile
// snapshot is an error, never a panic or a wrong answer.
const (
	magic   = "SGHAMIDX"
	version = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes a snapshot of the index to w.
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	e := &encoder{w: bufio.NewWriterSize(w, 1<<20), crc: crc32.New(castagnoli)}
	e.bytes([]byte(magic))
	e.u32(version)
	e.u32(uint32(len(x.segs)))
	e.u64(uint64(len(x.pendIDs)))
	for _, s := range x.segs {
		e.u64(uint64(s.n()))
		e.u64(uint64(s.dead))
		w, m := 0, len(s.tables)
		if m > 0 {
			w = s.tables[0].width
		}
		e.u32(uint32(w))
		e.u32(uint32(m))
		e.codes(s.codes)
		e.u64s(s.ids)
		e.u32s(s.byID)
		if s.dead > 0 {
			e.u64s(s.deadBits)
		}
		for _, t := range s.tables {
			e.u32s(t.off)
			e.u32s(t.post)
		}
	}
	e.codes(x.pendCodes)
	e.u64s(x.pendIDs)
	sum := e.crc.Sum32()
	e.crc = nil
	e.u32(sum)
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.n, e.err
}

type encoder struct {
	w   *bufio.Writer
	crc hash.Hash32
	buf []byte
	n   int64
	err error
}

func (e *encoder) bytes(b []byte) {
	if e.err != nil {
		return
	}
	if e.crc != nil {
		e.crc.Write(b)
	}
	k, err := e.w.Write(b)
	e.n += int64(k)
	e.err = err
}

func (e *encoder) u32(v uint32) { e.bytes(binary.LittleEndian.AppendUint32(e.buf[:0], v)) }
func (e *encoder) u64(v uint64) { e.bytes(binary.LittleEndian.AppendUint64(e.buf[:0], v)) }

// chunk is how many elements are encoded, or decoded, at a time.
const chunk = 1 << 14

func (e *encoder) u32s(s []uint32) { writeSlice(e, s, binary.LittleEndian.AppendUint32) }
func (e *encoder) u64s(s []uint64) { writeSlice(e, s, binary.LittleEndian.AppendUint64) }
func (e *encoder) codes(s []Code)  { writeSlice(e, s, appendCode) }

func appendCode(b []byte, c Code) []byte {
	for _, v := range c {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func writeSlice[T any](e *encoder, s []T, put func([]byte, T) []byte) {
	for len(s) > 0 {
		k := min(len(s), chunk)
		e.buf = e.buf[:0]
		for _, v := range s[:k] {
			e.buf = put(e.buf, v)
		}
		e.bytes(e.buf)
		s = s[k:]
	}
}

// Read loads a snapshot written by WriteTo.
func Read(r io.Reader) (*Index, error) {
	x, err := read(r)
	if err != nil {
		return nil, fmt.Errorf("hamming: reading snapshot: %w", err)
	}
	return x, nil
}

func read(r io.Reader) (*Index, error) {
	d := &decoder{r: r, crc: crc32.New(castagnoli)}
	if string(d.bytes(len(magic))) != magic {
		if d.err != nil {
			return nil, d.err
		}
		return nil, errors.New("not a hamming index snapshot (bad magic)")
	}
	if v := d.u32(); v != version && d.err == nil {
		return nil, fmt.Errorf("version %d, want %d", v, version)
	}
	nsegs, npend := d.u32(), d.u64()
	if d.err != nil {
		return nil, d.err
	}
	if npend >= pendingMax {
		return nil, fmt.Errorf("%d pending codes, want fewer than %d", npend, pendingMax)
	}
	// Segment sizes fall geometrically, so even 2^32 codes make fewer than
	// 64 segments; more is corruption.
	if nsegs > 64 {
		return nil, fmt.Errorf("%d segments, want at most 64", nsegs)
	}
	x := &Index{}
	for i := range int(nsegs) {
		s, err := d.segment()
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", i, err)
		}
		x.segs = append(x.segs, s)
	}
	x.pendCodes = d.codes(int(npend))
	x.pendIDs = d.u64s(int(npend))
	sum := d.crc.Sum32()
	d.crc = nil
	if stored := d.u32(); d.err == nil && stored != sum {
		return nil, fmt.Errorf("checksum %08x, want %08x: the snapshot is corrupt", sum, stored)
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := x.checkIDs(); err != nil {
		return nil, err
	}
	for _, s := range x.segs {
		s.makePlans()
	}
	return x, nil
}

// checkIDs checks that no live id is in two places.
func (x *Index) checkIDs() error {
	seen := map[uint64]bool{}
	for _, id := range x.pendIDs {
		if seen[id] {
			return fmt.Errorf("pending id %d twice", id)
		}
		seen[id] = true
	}
	for i, s := range x.segs {
		for pos, id := range s.ids {
			if s.isDead(uint32(pos)) {
				continue
			}
			if seen[id] {
				return fmt.Errorf("segment %d: id %d is also pending", i, id)
			}
			for j, t := range x.segs[:i] {
				if t.alive(id) {
					return fmt.Errorf("segment %d: id %d is also in segment %d", i, id, j)
				}
			}
		}
	}
	return nil
}

func (d *decoder) segment() (*segment, error) {
	n64, dead64, width, m := d.u64(), d.u64(), int(d.u32()), int(d.u32())
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case n64 == 0 || n64 >= 1<<32:
		return nil, fmt.Errorf("%d codes, want 1 to 2^32-1", n64)
	case dead64 > n64:
		return nil, fmt.Errorf("%d dead of %d codes", dead64, n64)
	case m == 0 && width != 0, m > 0 && (width < minWidth || width > maxWidth || m*width > 256):
		return nil, fmt.Errorf("%d tables of %d bits", m, width)
	}
	n := int(n64)
	s := &segment{dead: int(dead64)}
	s.codes = d.codes(n)
	s.ids = d.u64s(n)
	s.byID = d.u32s(n)
	if s.dead > 0 {
		s.deadBits = d.u64s((n + 63) / 64)
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := s.checkIDs(); err != nil {
		return nil, err
	}
	if s.dead > 0 {
		count := 0
		for _, w := range s.deadBits {
			count += bits.OnesCount64(w)
		}
		if tail := n % 64; tail != 0 && s.deadBits[len(s.deadBits)-1]>>tail != 0 {
			count = -1
		}
		if count != s.dead {
			return nil, fmt.Errorf("dead marks do not match the %d dead codes", s.dead)
		}
	}
	if m > 0 {
		ensureMasks(width)
	}
	s.tables = make([]table, m)
	for j := range s.tables {
		t := &s.tables[j]
		*t = table{start: j * width, width: width}
		t.off = d.u32s(1<<width + 1)
		if j > 0 {
			t.post = d.u32s(n)
		}
		if d.err != nil {
			return nil, d.err
		}
		if err := s.checkTable(t); err != nil {
			return nil, fmt.Errorf("table %d: %w", j, err)
		}
	}
	return s, nil
}

// checkIDs checks that byID lists every position once in increasing order
// of id, which also means that the ids are unique.
func (s *segment) checkIDs() error {
	for k, pos := range s.byID {
		if int(pos) >= len(s.ids) {
			return fmt.Errorf("id order: position %d of %d codes", pos, len(s.ids))
		}
		if k > 0 && s.ids[s.byID[k-1]] >= s.ids[pos] {
			return fmt.Errorf("id order: id %d after %d", s.ids[pos], s.ids[s.byID[k-1]])
		}
	}
	return nil
}

// checkTable checks that every bucket holds exactly the codes whose
// substring it stands for.
func (s *segment) checkTable(t *table) error {
	n := uint32(len(s.codes))
	if t.off[0] != 0 || t.off[len(t.off)-1] != n {
		return fmt.Errorf("offsets run from %d to %d, want 0 to %d", t.off[0], t.off[len(t.off)-1], n)
	}
	var seen []uint64
	if t.post != nil {
		seen = make([]uint64, (n+63)/64)
	}
	for k := range len(t.off) - 1 {
		lo, hi := t.off[k], t.off[k+1]
		if hi < lo {
			return fmt.Errorf("offsets decrease at bucket %d", k)
		}
		for i := lo; i < hi; i++ {
			pos := i
			if t.post != nil {
				pos = t.post[i]
				if pos >= n || seen[pos>>6]&(1<<(pos&63)) != 0 {
					return fmt.Errorf("bucket %d: position %d out of range or listed twice", k, pos)
				}
				seen[pos>>6] |= 1 << (pos & 63)
			}
			if t.key(s.codes[pos]) != uint32(k) {
				return fmt.Errorf("bucket %d holds a code of bucket %d", k, t.key(s.codes[pos]))
			}
		}
	}
	return nil
}

// alive reports whether id is a live code of the segment.
func (s *segment) alive(id uint64) bool {
	pos, ok := s.find(id)
	return ok && !s.isDead(pos)
}

type decoder struct {
	r   io.Reader
	crc hash.Hash32
	buf []byte
	err error
}

// bytes reads k bytes into the decoder's buffer.
func (d *decoder) bytes(k int) []byte {
	if d.err != nil {
		return nil
	}
	if cap(d.buf) < k {
		d.buf = make([]byte, k)
	}
	b := d.buf[:k]
	if _, err := io.ReadFull(d.r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = errors.New("truncated")
		}
		d.err = err
		return nil
	}
	if d.crc != nil {
		d.crc.Write(b)
	}
	return b
}

func (d *decoder) u32() uint32 {
	if b := d.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) u32s(n int) []uint32 { return readSlice(d, n, 4, binary.LittleEndian.Uint32) }
func (d *decoder) u64s(n int) []uint64 { return readSlice(d, n, 8, binary.LittleEndian.Uint64) }
func (d *decoder) codes(n int) []Code  { return readSlice(d, n, 32, getCode) }

func getCode(b []byte) Code {
	return Code{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]),
		binary.LittleEndian.Uint64(b[16:]), binary.LittleEndian.Uint64(b[24:])}
}

// readSlice grows its slice as data arrives, so that a count in a corrupt
// header cannot make it allocate more than the input holds.
func readSlice[T any](d *decoder, n, size int, get func([]byte) T) []T {
	s := make([]T, 0, min(n, 1<<20))
	for len(s) < n && d.err == nil {
		k := min(n-len(s), chunk)
		b := d.bytes(size * k)
		for i := 0; i < len(b); i += size {
			s = append(s, get(b[i:]))
		}
	}
	return s
}
