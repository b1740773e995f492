package hamming

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
)

// snapshot returns the snapshot of an index of n codes from the corpus,
// with some removed and some pending.
func snapshot(t testing.TB, n int) []byte {
	ids, codes, _ := corpus(uint64(n), n, 0)
	x := Build(ids, codes)
	for i := 0; i < n; i += 7 {
		x.Remove(ids[i])
	}
	for i := range 10 {
		x.Add(1<<40+uint64(i), codes[i])
	}
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// reseal recomputes the checksum, so that a change reaches the checks of
// structure rather than stopping at the checksum.
func reseal(b []byte) []byte {
	b = slices.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
	return b
}

func TestReadCorrupt(t *testing.T) {
	good := snapshot(t, 5000)
	if _, err := Read(bytes.NewReader(good)); err != nil {
		t.Fatalf("good snapshot: %v", err)
	}
	// Offsets into the first segment: header 24, segment header 20 + 4 a
	// table; then codes.
	seg := 24
	tables := int(binary.LittleEndian.Uint32(good[seg+16:]))
	codes := seg + 20 + 4*tables
	n := int(binary.LittleEndian.Uint64(good[seg:]))
	byID := codes + 40*n
	set32 := func(b []byte, at int, v uint32) []byte {
		b = slices.Clone(b)
		binary.LittleEndian.PutUint32(b[at:], v)
		return b
	}
	set64 := func(b []byte, at int, v uint64) []byte {
		b = slices.Clone(b)
		binary.LittleEndian.PutUint64(b[at:], v)
		return b
	}
	swapped := slices.Clone(good)
	copy(swapped[codes:codes+32], good[codes+32:codes+64])
	copy(swapped[codes+32:codes+64], good[codes:codes+32])
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"bad magic", append([]byte("SGHAMIDY"), good[8:]...), "bad magic"},
		{"version 1", set32(good, 8, 1), "version 1, want 2"},
		{"version 3", set32(good, 8, 3), "version 3"},
		{"truncated header", good[:30], "truncated"},
		{"truncated codes", good[:codes+1000], "truncated"},
		{"truncated checksum", good[:len(good)-1], "truncated"},
		{"flipped byte", func() []byte { b := slices.Clone(good); b[len(b)/2] ^= 1; return b }(), ""},
		{"checksum", func() []byte { b := slices.Clone(good); b[len(b)-1] ^= 1; return b }(), "checksum"},
		{"too many segments", set32(good, 12, 1000), "segments"},
		{"huge segment", reseal(set64(good, seg, 1<<40)), "codes"},
		{"dead count", reseal(set64(good, seg+8, 1<<20)), "dead"},
		{"many tables", reseal(set32(good, seg+16, 1000)), "tables"},
		{"wide table", reseal(set32(good, seg+20, 40)), "bits"},
		{"id order", reseal(set64(good, byID, 0)), "id order"},
		{"codes out of bucket order", reseal(swapped), "bucket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := Read(bytes.NewReader(tc.data))
			if err == nil {
				t.Fatalf("Read = %d codes, nil error; want an error", x.Len())
			}
			if !strings.HasPrefix(err.Error(), "hamming: reading snapshot: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read: %v; want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// TestReadChecksTables changes every table's bytes one at a time, resealed,
// and wants each change refused or harmless: a snapshot that loads must
// answer as brute force does over what it holds.
func TestReadChecksTables(t *testing.T) {
	good := snapshot(t, 3000)
	_, _, queries := corpus(3000, 3000, 20)
	refused := 0
	for at := 24; at < len(good)-4; at += 997 {
		b := slices.Clone(good)
		b[at] ^= 0x10
		x, err := Read(bytes.NewReader(reseal(b)))
		if err != nil {
			refused++
			continue
		}
		checkLoaded(t, x, queries)
	}
	if refused == 0 {
		t.Error("no change refused")
	}
}

// checkLoaded checks a loaded index against brute force over its own
// contents.
func checkLoaded(t *testing.T, x *Index, queries []Code) {
	t.Helper()
	o := oracle{}
	for _, s := range x.segs {
		ids, codes := s.liveEntries(nil, nil)
		for i := range ids {
			o[ids[i]] = codes[i]
		}
	}
	for i, id := range x.pendIDs {
		o[id] = x.pendCodes[i]
	}
	check(t, "loaded", x, o, queries, []int{0, 31, 64})
}

func FuzzRead(f *testing.F) {
	f.Add(snapshot(f, 2100), false)
	f.Add(snapshot(f, 100), false)
	f.Add([]byte(magic), true)
	_, _, queries := corpus(5, 100, 10)
	f.Fuzz(func(t *testing.T, data []byte, fixChecksum bool) {
		if fixChecksum && len(data) > 4 {
			data = reseal(data)
		}
		x, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		checkLoaded(t, x, queries)
	})
}
