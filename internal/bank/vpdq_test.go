package bank_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

func sampleVPDQ(n int) []vpdq.Frame {
	frames := make([]vpdq.Frame, n)
	for i := range frames {
		var h pdq.Hash
		h[i%32] = byte(i)
		frames[i] = vpdq.Frame{Number: i, Quality: 50 + i%50, Hash: h, Timestamp: float64(i) / 30}
	}
	return frames
}

// A vPDQ value normalises to one form whether it came as the binary's hex
// or as python-threatexchange's string, and bad or oversized values are
// refused with a reason.
func TestVPDQValue(t *testing.T) {
	frames := sampleVPDQ(40)
	v, err := bank.VPDQValue(frames)
	if err != nil {
		t.Fatal(err)
	}
	fromSignal, err := bank.ParseValue(bank.VPDQ, vpdq.FormatSignal(frames))
	if err != nil {
		t.Fatal(err)
	}
	// The signal string has no frame numbers (frames are numbered by
	// position, as here) and timestamps to three significant digits;
	// hashes and qualities come through whole.
	got, err := bank.VPDQFrames(fromSignal)
	if err != nil || len(got) != len(frames) {
		t.Fatalf("the signal string's value: %d frames, %v", len(got), err)
	}
	for i := range got {
		if got[i].Number != frames[i].Number || got[i].Hash != frames[i].Hash || got[i].Quality != frames[i].Quality {
			t.Errorf("frame %d: %+v, want %+v", i, got[i], frames[i])
		}
	}
	if got, err := bank.ParseValue(bank.VPDQ, strings.ToUpper(v)); err != nil || got != v {
		t.Errorf("upper-case hex: %v", err)
	}
	for name, bad := range map[string]string{
		"empty":           "",
		"not hex":         "zz",
		"not vpdq":        "00ff",
		"bad signal":      `["abc,100,0.0"]`,
		"no frames":       `[]`,
		"too many frames": vpdq.FormatSignal(sampleVPDQ(bank.MaxVPDQFrames + 1)),
	} {
		if _, err := bank.ParseValue(bank.VPDQ, bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := bank.VPDQValue(sampleVPDQ(bank.MaxVPDQFrames + 1)); err == nil || !strings.Contains(err.Error(), "one frame a second") {
		t.Errorf("over the frame limit: %v", err)
	}
}

// A file of one video's hash is recognised by its first bytes, in either
// form, and read as one entry; a hash list is not taken for one.
func TestVPDQFile(t *testing.T) {
	frames := sampleVPDQ(5)
	var text bytes.Buffer
	vpdq.WriteText(&text, frames)
	want, _ := bank.VPDQValue(frames)
	for name, data := range map[string][]byte{"reference text": text.Bytes(), "signal string": []byte(" " + vpdq.FormatSignal(frames) + "\n")} {
		if !bank.IsVPDQFile(data) {
			t.Errorf("%s: not recognised", name)
			continue
		}
		e, err := bank.ReadVPDQFile(bytes.NewReader(data))
		if err != nil || e.Signal != bank.VPDQ || e.Value != want {
			t.Errorf("%s: %v, %v", name, e.Signal, err)
		}
	}
	for _, list := range []string{"d41d8cd98f00b204e9800998ecf8427e\n", "signal_type,signal_str\n", "pdq " + strings.Repeat("0", 64) + "\n"} {
		if bank.IsVPDQFile([]byte(list)) {
			t.Errorf("%q taken for a vPDQ file", list)
		}
	}
	if _, err := bank.ReadVPDQFile(strings.NewReader("0,100,xyz,0.000\n")); err == nil {
		t.Error("a bad line was read")
	}
}

// FuzzVPDQValue: any string is refused or normalised to a value that is
// its own normal form and decodes to frames.
func FuzzVPDQValue(f *testing.F) {
	frames := sampleVPDQ(3)
	v, _ := bank.VPDQValue(frames)
	f.Add(v)
	f.Add(vpdq.FormatSignal(frames))
	f.Add(`["` + strings.Repeat("0", 64) + `,100,1.5e+02"]`)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := bank.ParseValue(bank.VPDQ, s)
		if err != nil {
			return
		}
		again, err := bank.ParseValue(bank.VPDQ, got)
		if err != nil || again != got {
			t.Fatalf("normal form %q is not stable: %q, %v", got, again, err)
		}
		if fs, err := bank.VPDQFrames(got); err != nil || len(fs) == 0 {
			t.Fatalf("normal form does not decode: %v", err)
		}
	})
}
