package hamming

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"unsafe"
)

// TestSnapshotHugePages checks that the arrays of an index read from a
// snapshot are backed by huge pages, as those of a built index are: with
// 4 KiB pages every random read of a multi-gigabyte index also misses the
// TLB. It skips where the kernel gives none to a built index either.
func TestSnapshotHugePages(t *testing.T) {
	ids, codes, _ := corpus(7, 600_000, 0) // 19.2 MB of codes, 4.8 MB of ids
	built := Build(ids, codes)
	if kb := hugeKB(t, built.segs[0].codes); kb == 0 {
		t.Skip("no transparent huge pages for a built index here (/sys/kernel/mm/transparent_hugepage/enabled is never, or memory is fragmented)")
	}
	var buf bytes.Buffer
	if _, err := built.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	built, ids, codes = nil, nil, nil
	runtime.GC()
	debug.FreeOSMemory() // give the built arrays' pages back, so only the loaded ones count
	x, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if kb := hugeKB(t, x.segs[0].codes); kb < 4096 {
		t.Errorf("codes read from a snapshot: %d KiB in huge pages in their mapping, want at least 4096", kb)
	}
	if kb := hugeKB(t, x.segs[0].ids); kb < 2048 {
		t.Errorf("ids read from a snapshot: %d KiB in huge pages in their mapping, want at least 2048", kb)
	}
}

// hugeKB returns the AnonHugePages of the mapping in /proc/self/smaps
// that holds s's first element.
func hugeKB[T any](t *testing.T, s []T) int {
	t.Helper()
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if !strings.HasSuffix(fields[0], ":") { // a mapping's header: "lo-hi perms offset dev inode [path]"
			var lo, hi uintptr
			if _, err := fmt.Sscanf(fields[0], "%x-%x", &lo, &hi); err != nil {
				t.Fatalf("/proc/self/smaps: %q: %v", line, err)
			}
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			var kb int
			fmt.Sscanf(strings.TrimPrefix(line, "AnonHugePages:"), "%d", &kb)
			return kb
		}
	}
	t.Fatalf("no mapping in /proc/self/smaps holds %#x", addr)
	return 0
}
