package vpdq

import (
	"bytes"
	"strings"
	"testing"
)

const seedLine = "0,100,e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54,0.000\n"

// Each parser of outside input must return frames or an error, never
// panic, and what it accepts must survive its own writer.

func FuzzReadText(f *testing.F) {
	f.Add([]byte(seedLine))
	f.Add([]byte(seedLine + "1,40," + strings.Repeat("f", 64) + ",0.033\n"))
	f.Add([]byte("0,100,zz,1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames, err := ReadText(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteText(&b, frames); err != nil {
			t.Fatal(err)
		}
		again, err := ReadText(&b)
		if err != nil || len(again) != len(frames) {
			t.Fatalf("written text does not read back: %v", err)
		}
	})
}

func FuzzParseSignal(f *testing.F) {
	f.Add(`["e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54,100,0.0"]`)
	f.Add(`["e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54,100,1e+02", "x"]`)
	f.Add(`{"0": {"quality": 100}}`)
	f.Fuzz(func(t *testing.T, s string) {
		frames, err := ParseSignal(s)
		if err != nil {
			return
		}
		again, err := ParseSignal(FormatSignal(frames))
		if err != nil || len(again) != len(frames) {
			t.Fatalf("formatted signal does not parse back: %v", err)
		}
		for i := range frames {
			if again[i].Hash != frames[i].Hash || again[i].Quality != frames[i].Quality {
				t.Fatalf("frame %d changed", i)
			}
		}
	})
}

func FuzzUnmarshalBinary(f *testing.F) {
	f.Add(MarshalBinary([]Frame{{Number: 3, Quality: 100, Timestamp: 0.1}}))
	f.Add([]byte("vPQ1\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, err := UnmarshalBinary(b)
		if err != nil {
			return
		}
		if !bytes.Equal(MarshalBinary(frames), b) {
			// Varints have one shortest form; a longer one is accepted but
			// re-encodes shorter, so compare the decoded frames instead.
			again, err := UnmarshalBinary(MarshalBinary(frames))
			if err != nil || len(again) != len(frames) {
				t.Fatalf("re-encoded frames do not decode: %v", err)
			}
			for i := range frames {
				if again[i] != frames[i] {
					t.Fatalf("frame %d changed: %+v -> %+v", i, frames[i], again[i])
				}
			}
		}
	})
}
