package server_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/media/mediatest"
)

// serverBombs are the uploads of issue 12's finding 1, sent to a running
// `safeguard serve` through POST /v1/scan.
var serverBombs = []struct {
	name   string
	copies int // bodies per concurrent sender
	build  func() []byte
}{
	{"jpeg-progressive-214B", 1, func() []byte { return mediatest.ProgressiveJPEG(10000, 10000, 86) }},
	{"jpeg-progressive-valid", 1, func() []byte { return mediatest.ProgressiveJPEG(10000, 10000, 10000*10000*3/64/8+1) }},
	{"png-16bit", 1, func() []byte { return mediatest.PNG16(10000, 10000) }},
	{"tiff-16bit-deflate", 1, func() []byte { return mediatest.TIFF16(10000, 10000) }},
	// 30 MB of noise labelled image/jpeg, 3 per sender: at 8 senders, 24
	// bodies, as in the issue (1.56 GB before bodies were admitted).
	{"bodies-30MB", 3, func() []byte { b := make([]byte, 30<<20); rand.Read(b); b[0], b[1] = 0xff, 0xd8; return b }},
}

// BenchmarkServerBombRSS runs `safeguard serve` (SQLite, default budgets)
// in a child process per row, sends it each bomb from 1 and 8 clients at
// once, and prints the child's peak RSS (VmHWM) and its RSS 3 s after the
// last answer. The target: peak under 1 GiB, and the memory returned.
//
//	go test -run '^$' -bench ServerBombRSS -benchtime 1x ./internal/server
func BenchmarkServerBombRSS(b *testing.B) {
	bin := buildBinary(b)
	var table strings.Builder
	fmt.Fprintf(&table, "%-24s %8s %4s %12s %12s %10s  %s\n", "bomb", "size", "at", "peak RSS", "RSS after", "wall", "answers")
	for _, k := range serverBombs {
		data := k.build()
		for _, n := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/%d", k.name, n), func(b *testing.B) {
				for range b.N {
					peak, after, wall, answers := serverBomb(b, bin, data, n, k.copies)
					b.ReportMetric(float64(peak)/1024, "peak-MiB")
					b.ReportMetric(float64(after)/1024, "after-MiB")
					fmt.Fprintf(&table, "%-24s %7dK %4d %10d M %10d M %10s  %s\n", k.name, len(data)>>10, n*k.copies, peak/1024, after/1024, wall.Round(time.Millisecond), answers)
				}
			})
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\n%s(GOMAXPROCS %d, load average %s)\n", table.String(), runtime.GOMAXPROCS(0), strings.TrimSpace(string(load)))
}

// serverBomb runs one row: a fresh server, n senders of copies bodies each.
func serverBomb(b *testing.B, bin string, data []byte, n, copies int) (peakKB, afterKB int64, wall time.Duration, answers string) {
	dir := b.TempDir()
	out, err := exec.Command(bin, "apikey", "create", "--role", "integrator", "--name", "bench", "--data", dir).Output()
	if err != nil {
		b.Fatalf("apikey create: %v", err)
	}
	key := strings.TrimSpace(string(out))
	cmd, base := serveProcess(b, bin, "--data", dir)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			for range copies {
				req, _ := http.NewRequest("POST", base+"/v1/scan", bytes.NewReader(data))
				req.Header.Set("Content-Type", "image/jpeg")
				req.Header.Set("Authorization", "Bearer "+key)
				code := -1
				if resp, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall = time.Since(start)
	time.Sleep(3 * time.Second)
	peakKB, afterKB = childStatus(b, cmd.Process.Pid, "VmHWM"), childStatus(b, cmd.Process.Pid, "VmRSS")
	var parts []string
	for _, c := range []int{200, 400, 413, 422, 503, 500, -1} {
		if codes[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d×%d", codes[c], c))
		}
	}
	return peakKB, afterKB, wall, strings.Join(parts, " ")
}

// childStatus reads a figure in kB from a process's /proc status.
func childStatus(b *testing.B, pid int, field string) int64 {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	b.Fatalf("no %s for process %d", field, pid)
	return 0
}
