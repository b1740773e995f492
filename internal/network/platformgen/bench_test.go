package platformgen

import (
	"bytes"
	"encoding/json"
	"runtime"
	"sync"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/network"
)

// million is a platform of about a million events as JSON lines, made once.
var million = sync.OnceValue(func() []byte {
	cfg := Default(9)
	cfg.Ordinary = 64000
	events, _ := Generate(cfg)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
})

// BenchmarkDetect1M reads about a million events and finds the networks in
// them, as safeguard network detect does (with the Lexicon scorer here; the
// command's textrisk scorer only sees comments under children's images).
func BenchmarkDetect1M(b *testing.B) {
	in := million()
	b.SetBytes(int64(len(in)))
	var events int
	for b.Loop() {
		var a network.Activity
		st, err := network.Read(bytes.NewReader(in), &a)
		if err != nil || st.Bad > 0 {
			b.Fatalf("%v, %d bad lines", err, st.Bad)
		}
		var d network.Detector
		if len(d.Detect(&a)) == 0 {
			b.Fatal("no networks")
		}
		events = st.Accepted
		runtime.KeepAlive(&a)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MB")
}
