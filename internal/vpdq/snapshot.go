package vpdq

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/safeguard-oss/safeguard/internal/hamming"
)

// WriteTo writes the index as the matcher's snapshot keeps it (docs/hamming.md):
//
//	next:u64 videos:u64, per video (in slot order of the map, any order)
//	slot:u64 key:u64 frames:u32, then the frames' Hamming index snapshot
//
// The caller checksums the whole (the Hamming part carries its own CRC).
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	buf := binary.LittleEndian.AppendUint64(nil, x.next)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(x.videos)))
	for slot, v := range x.videos {
		buf = binary.LittleEndian.AppendUint64(buf, slot)
		buf = binary.LittleEndian.AppendUint64(buf, v.key)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(v.frames))
	}
	n, err := w.Write(buf)
	if err != nil {
		return int64(n), err
	}
	m, err := x.codes.WriteTo(w)
	return int64(n) + m, err
}

// ReadIndex reads an index written by WriteTo, to match under rule (the
// rule it was built with: its quality and distance shaped the frames
// kept). Every video's slot, key and frame count is checked against the
// frames' index, so a corrupt snapshot is an error, never a wrong answer.
func ReadIndex(r io.Reader, rule Rule) (*Index, error) {
	x, err := readIndex(r, rule)
	if err != nil {
		return nil, fmt.Errorf("vpdq: reading index snapshot: %w", err)
	}
	return x, nil
}

func readIndex(r io.Reader, rule Rule) (*Index, error) {
	var head [16]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, errTruncated(err)
	}
	x := NewIndex(rule)
	x.next = binary.LittleEndian.Uint64(head[:])
	n := binary.LittleEndian.Uint64(head[8:])
	if x.next > maxSlot+1 || n > x.next {
		return nil, fmt.Errorf("%d videos in %d slots", n, x.next)
	}
	frames := 0
	var rec [20]byte
	for range n {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			return nil, errTruncated(err)
		}
		slot, key := binary.LittleEndian.Uint64(rec[:]), binary.LittleEndian.Uint64(rec[8:])
		k := int(binary.LittleEndian.Uint32(rec[16:]))
		if slot >= x.next || k == 0 || k >= 1<<frameBits {
			return nil, fmt.Errorf("video slot %d of %d with %d frames", slot, x.next, k)
		}
		if _, dup := x.videos[slot]; dup {
			return nil, fmt.Errorf("slot %d twice", slot)
		}
		if _, dup := x.slots[key]; dup {
			return nil, fmt.Errorf("key %d twice", key)
		}
		x.videos[slot] = &banked{key: key, frames: k}
		x.slots[key] = slot
		frames += k
	}
	codes, err := hamming.Read(r)
	if err != nil {
		return nil, err
	}
	// Every frame of every video must be there, and nothing else (a frame
	// past its video's count would index past its tally): Len counts live
	// ids, which the Hamming snapshot checked are distinct.
	if codes.Len() != frames {
		return nil, fmt.Errorf("%d frame codes for %d frames", codes.Len(), frames)
	}
	for slot, v := range x.videos {
		for i := range v.frames {
			if !codes.Has(slot<<frameBits | uint64(i)) {
				return nil, fmt.Errorf("video in slot %d: frame %d missing", slot, i)
			}
		}
	}
	x.codes = codes
	return x, nil
}

func errTruncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("truncated")
	}
	return err
}
