package tmk

import (
	"bytes"
	"os"
	"testing"
)

func FuzzUnmarshalBinary(f *testing.F) {
	data, err := os.ReadFile("testdata/reference/chair-20-sd-bar.tmk")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:32])
	f.Add([]byte("TMK1FVECPDQF"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var g Features
		if err := g.UnmarshalBinary(in); err != nil {
			return
		}
		out, _ := g.MarshalBinary()
		var h Features
		if err := h.UnmarshalBinary(out); err != nil {
			t.Fatalf("written back does not read: %v", err)
		}
		if !bytes.Equal(out[32:], in[32:]) && h != g {
			t.Fatal("round trip changed the features")
		}
	})
}
