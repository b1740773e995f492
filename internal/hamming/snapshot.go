package hamming

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// A snapshot is the index's own arrays, flat and little-endian, so that
// loading is reading, not building:
//
//	"SGHAMIDX" version:u32 segments:u32 pending:u64
//	per segment: n:u64 dead:u64 tables:u32 widths tables×u32
//	             codes n×4×u64 (most significant word first), ids n×u64,
//	             byID packed(n, b), dead bits ⌈n/64⌉×u64 when dead > 0,
//	             per table: directory 2^width/64×u64 (a bit a bucket, set
//	             when it holds a code; Read counts them), then
//	             table 0: offsets packed(full buckets+1, b);
//	             other tables: slots packed(full buckets, b+1),
//	             overflow length:u64, overflow packed(length, b+1)
//	             (each bucket's positions, its last with bit b set)
//	pending codes and ids
//	CRC-32C of all the above: u32
//
// where b = posBits(n), and packed(k, w) is k integers of w bits, the
// first in the low bits of the first word, in ⌊(k×w+63)/64⌋+1 u64 words.
// Read checks every invariant a search relies on, so a corrupt or hostile
// snapshot is an error, never a panic or a wrong answer.
//
// Version 2 packs positions in b bits and marks the end of an overflow
// list where version 1 had 32-bit positions and counted each list's
// length; Read refuses version 1 rather than convert it, since a snapshot
// is a cache the matcher rebuilds from the banks.
const (
	magic   = "SGHAMIDX"
	version = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes a snapshot of the index to w.
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	e := &encoder{w: bufio.NewWriterSize(w, 1<<20)}
	e.bytes([]byte(magic))
	e.u32(version)
	e.u32(uint32(len(x.segs)))
	e.u64(uint64(len(x.pendIDs)))
	for _, s := range x.segs {
		e.u64(uint64(s.n()))
		e.u64(uint64(s.dead))
		e.u32(uint32(len(s.tables)))
		for _, t := range s.tables {
			e.u32(uint32(t.width))
		}
		writeSlice(e, s.codes)
		writeSlice(e, s.ids)
		writeSlice(e, s.byID.words)
		if s.dead > 0 {
			writeSlice(e, s.deadBits)
		}
		for j, t := range s.tables {
			writeSlice(e, t.full)
			if j == 0 {
				writeSlice(e, t.off.words)
				continue
			}
			writeSlice(e, t.head.words)
			e.u64(uint64(t.over.n))
			writeSlice(e, t.over.words)
		}
	}
	writeSlice(e, x.pendCodes)
	writeSlice(e, x.pendIDs)
	e.u32(e.crc)
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.n, e.err
}

type encoder struct {
	w   *bufio.Writer
	crc uint32
	buf []byte
	n   int64
	err error
}

func (e *encoder) bytes(b []byte) {
	if e.err != nil {
		return
	}
	e.crc = crc32.Update(e.crc, castagnoli, b)
	k, err := e.w.Write(b)
	e.n += int64(k)
	e.err = err
}

func (e *encoder) u32(v uint32) { e.bytes(binary.LittleEndian.AppendUint32(e.buf[:0], v)) }
func (e *encoder) u64(v uint64) { e.bytes(binary.LittleEndian.AppendUint64(e.buf[:0], v)) }

// word is what the flat arrays are made of.
type word interface{ uint64 | Code }

// littleEndian is whether slices can be written and read as they lie in
// memory; elsewhere their bytes are swapped on the way.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func asBytes[T word](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// swapBytes turns little-endian words into native ones and back.
func swapBytes[T word](s []T) {
	switch v := any(s).(type) {
	case []uint64:
		for i := range v {
			v[i] = bits.ReverseBytes64(v[i])
		}
	case []Code:
		for i := range v {
			for k := range v[i] {
				v[i][k] = bits.ReverseBytes64(v[i][k])
			}
		}
	}
}

func writeSlice[T word](e *encoder, s []T) {
	if littleEndian {
		e.bytes(asBytes(s))
		return
	}
	const chunk = 1 << 12
	var tmp []T
	for len(s) > 0 {
		k := min(len(s), chunk)
		tmp = append(tmp[:0], s[:k]...)
		swapBytes(tmp)
		e.bytes(asBytes(tmp))
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
	d := &decoder{r: r, seed: rand.Uint64()}
	if string(d.bytes(len(magic))) != magic {
		if d.err != nil {
			return nil, d.err
		}
		return nil, errors.New("not a hamming index snapshot (bad magic)")
	}
	if v := d.u32(); v != version && d.err == nil {
		return nil, fmt.Errorf("version %d, want %d (an older snapshot must be rebuilt from its codes)", v, version)
	}
	nsegs, npend := d.u32(), d.u64()
	if d.err != nil {
		return nil, d.err
	}
	if npend >= pendingMax {
		return nil, fmt.Errorf("%d pending codes, want fewer than %d", npend, pendingMax)
	}
	// Segment sizes fall geometrically, so even 2^31 codes make fewer than
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
	x.pendCodes = readSlice[Code](d, int(npend))
	x.pendIDs = readSlice[uint64](d, int(npend))
	sum := d.crc
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
		s.makePlans(s.n())
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
	n64, dead64, m := d.u64(), d.u64(), d.u32()
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case n64 == 0 || n64 > maxCodes:
		return nil, fmt.Errorf("%d codes, want 1 to 2^31-1", n64)
	case dead64 > n64:
		return nil, fmt.Errorf("%d dead of %d codes", dead64, n64)
	case m > maxTables:
		return nil, fmt.Errorf("%d tables, want at most %d", m, maxTables)
	}
	widths := make([]int, m)
	sum := 0
	for j := range widths {
		widths[j] = int(d.u32())
		if widths[j] < minWidth || widths[j] > maxWidth {
			return nil, fmt.Errorf("table %d of %d bits, want %d to %d", j, widths[j], minWidth, maxWidth)
		}
		sum += widths[j]
	}
	if sum > 256 {
		return nil, fmt.Errorf("tables of %v bits: more than 256", widths)
	}
	n := int(n64)
	s := &segment{dead: int(dead64)}
	s.codes = readSlice[Code](d, n)
	s.ids = readSlice[uint64](d, n)
	b := posBits(n)
	s.byID = readPacked(d, n, b)
	if s.dead > 0 {
		s.deadBits = readSlice[uint64](d, (n+63)/64)
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
	s.tables = newTables(widths)
	for j := range s.tables {
		t := &s.tables[j]
		t.full = readSlice[uint64](d, 1<<t.width/64)
		if d.err != nil {
			return nil, d.err
		}
		full := t.ranks()
		var err error
		if j == 0 {
			t.off = readPacked(d, full+1, b)
			if d.err != nil {
				return nil, d.err
			}
			err = s.checkOrder(t)
		} else {
			t.mark = 1 << b
			t.head = readPacked(d, full, b+1)
			listed := d.u64()
			if d.err != nil {
				return nil, d.err
			}
			if listed > n64 {
				return nil, fmt.Errorf("table %d: overflow list of %d for %d codes", j, listed, n64)
			}
			t.over = readPacked(d, int(listed), b+1)
			if d.err != nil {
				return nil, d.err
			}
			err = s.checkTable(t, d.seed)
		}
		if err != nil {
			return nil, fmt.Errorf("table %d: %w", j, err)
		}
	}
	return s, nil
}

// checkIDs checks that byID lists every position once in increasing order
// of id, which also means that the ids are unique.
func (s *segment) checkIDs() error {
	prev := uint32(0)
	for k := range s.byID.n {
		pos := s.byID.get(k)
		if int(pos) >= len(s.ids) {
			return fmt.Errorf("id order: position %d of %d codes", pos, len(s.ids))
		}
		if k > 0 && s.ids[prev] >= s.ids[pos] {
			return fmt.Errorf("id order: id %d after %d", s.ids[pos], s.ids[prev])
		}
		prev = pos
	}
	return nil
}

// fullBuckets calls f with the number of each full bucket, in order.
func (t *table) fullBuckets(f func(k uint32) error) error {
	for e, w := range t.full {
		for ; w != 0; w &= w - 1 {
			if err := f(uint32(e*64 + bits.TrailingZeros64(w))); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOrder checks that the codes are in the order of table 0's buckets.
func (s *segment) checkOrder(t *table) error {
	n := uint32(len(s.codes))
	first, last := t.off.get(0), t.off.get(t.off.n-1)
	if first != 0 || last != n {
		return fmt.Errorf("offsets run from %d to %d, want 0 to %d", first, last, n)
	}
	i := 0
	return t.fullBuckets(func(k uint32) error {
		lo, hi := t.off.get(i), t.off.get(i+1)
		i++
		if hi <= lo || hi > n {
			return fmt.Errorf("full bucket %d: codes %d to %d of %d", k, lo, hi, n)
		}
		for pos := lo; pos < hi; pos++ {
			if got := t.key(s.codes[pos]); got != k {
				return fmt.Errorf("bucket %d holds a code of bucket %d", k, got)
			}
		}
		return nil
	})
}

// checkTable checks that the table lists every position once, in the bucket
// of its code. Looking up each listed code would read the codes in random
// order; instead it compares two sums of a keyed hash of (position, bucket)
// pairs, one in the table's order and one in the codes' order. With the key
// drawn at random for each load, no crafted snapshot can make the sums agree
// when the pairs differ, but for a chance of 2^-64.
func (s *segment) checkTable(t *table, seed uint64) error {
	n := uint32(len(s.codes))
	seen := make([]uint64, (n+63)/64)
	listed := uint32(0)
	var sum uint64
	add := func(pos, k uint32) error {
		if pos >= n || seen[pos>>6]&(1<<(pos&63)) != 0 {
			return fmt.Errorf("bucket %d: position %d out of range or listed twice", k, pos)
		}
		seen[pos>>6] |= 1 << (pos & 63)
		listed++
		sum += mix(seed, pos, k)
		return nil
	}
	i := 0
	err := t.fullBuckets(func(k uint32) error {
		h := t.head.get(i)
		i++
		if h < t.mark {
			return add(h, k)
		}
		o := int(h &^ t.mark)
		if o >= t.over.n {
			return fmt.Errorf("bucket %d: overflow list at %d of %d", k, o, t.over.n)
		}
		for ; o < t.over.n; o++ {
			v := t.over.get(o)
			if err := add(v&^t.mark, k); err != nil {
				return err
			}
			if v&t.mark != 0 {
				return nil
			}
		}
		return fmt.Errorf("bucket %d: overflow list at %d runs past the end", k, o)
	})
	if err != nil {
		return err
	}
	if listed != n {
		return fmt.Errorf("%d of %d codes listed", listed, n)
	}
	for pos, c := range s.codes {
		sum -= mix(seed, uint32(pos), t.key(c))
	}
	if sum != 0 {
		return errors.New("buckets do not hold the codes of their substring")
	}
	return nil
}

// mix is a keyed hash of a (position, bucket) pair: SplitMix64's finaliser.
func mix(seed uint64, pos, k uint32) uint64 {
	z := (uint64(pos)<<32 | uint64(k)) ^ seed
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// alive reports whether id is a live code of the segment.
func (s *segment) alive(id uint64) bool {
	pos, ok := s.find(id)
	return ok && !s.isDead(pos)
}

type decoder struct {
	r    io.Reader
	crc  uint32
	seed uint64
	buf  []byte
	err  error
}

// read fills b, or notes why it could not.
func (d *decoder) read(b []byte) {
	if d.err != nil {
		return
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = errors.New("truncated")
		}
		d.err = err
		return
	}
	d.crc = crc32.Update(d.crc, castagnoli, b)
}

// bytes reads k bytes into the decoder's buffer.
func (d *decoder) bytes(k int) []byte {
	if cap(d.buf) < k {
		d.buf = make([]byte, k)
	}
	d.read(d.buf[:k])
	if d.err != nil {
		return nil
	}
	return d.buf[:k]
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

// readPacked reads n integers of width bits.
func readPacked(d *decoder, n int, width uint) packed {
	return packed{words: readSlice[uint64](d, packedWords(n, width)), width: width, n: n}
}

// readSlice reads n words straight into a slice. It grows the slice as
// data arrives, doubling, so that a count in a corrupt header cannot make
// it allocate much more than the input holds. Each larger array is asked
// for huge pages before it is touched (hugeSlice), so an index loaded from
// a snapshot reads as fast as one built in memory.
func readSlice[T word](d *decoder, n int) []T {
	var zero T
	s := hugeSlice[T](min(n, (16<<20)/int(unsafe.Sizeof(zero))))[:0]
	for len(s) < n && d.err == nil {
		if len(s) == cap(s) {
			t := hugeSlice[T](min(n, 2*cap(s)))
			copy(t, s)
			s = t[:len(s)]
		}
		k := min(n, cap(s)) - len(s)
		d.read(asBytes(s[len(s) : len(s)+k]))
		s = s[:len(s)+k]
	}
	if !littleEndian {
		swapBytes(s)
	}
	return s
}
