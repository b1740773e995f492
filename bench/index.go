package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
	"unsafe"

	"github.com/safeguard-oss/safeguard/internal/hamming"
	"github.com/safeguard-oss/safeguard/internal/hamming/hammingtest"
)

// IndexConfig says what `bench index` measures.
type IndexConfig struct {
	Sizes []int // codes in the index, measured in turn
	// Widths lists substring widths (12 to 29 bits, 0 for the default),
	// each a row of its own: the curve of memory against time. The last
	// is built in place (hamming.BuildInPlace), the others first, from a
	// copy; empty means the default alone.
	Widths []int
	// NoSnapshot leaves out the snapshot's write and load times.
	NoSnapshot bool
	Queries    int    // queries timed
	Radius     int    // search radius
	Sample     int    // queries checked against brute force for recall (and timed brute force)
	Seed       uint64 // of the synthetic codes
	// Data names the synthetic lists to measure, each in turn (see
	// DataSets); empty means mixed.
	Data []string
	// Python is an interpreter that can import faiss, to time faiss side by
	// side with bench/faiss_index.py; empty leaves faiss out.
	Python string
	// FaissScript is the path of faiss_index.py.
	FaissScript string
	// Reference is the path of the reference C++ benchmark-query
	// (facebook/ThreatExchange pdq/cpp), run with -m mih on an index of the
	// same size; it makes its own codes. Empty leaves it out.
	Reference string
}

// DataSets describes the synthetic lists `bench index --data` knows.
const DataSets = `random: uniform random codes; half the queries within 0-40 bits of a code, half random
mixed: 90% random, 10% in clusters of 2-20 within 0-40 bits of a centre; queries as random's
clusteredK (e.g. clustered1000): half random, half in clusters of K within 12 bits of a centre;
    every query within 6 bits of a clustered code, so each has about K true matches at radius >= 30`

// dataSet returns the generator of the named synthetic list.
func dataSet(name string) (func(n, queries int, seed uint64) (codes, qs []hamming.Code), error) {
	switch name {
	case "random":
		return hammingtest.Uniform[hamming.Code], nil
	case "mixed":
		return hammingtest.Mixed[hamming.Code], nil
	}
	if k, ok := strings.CutPrefix(name, "clustered"); ok {
		size, err := strconv.Atoi(k)
		if err == nil && size >= 1 {
			return func(n, queries int, seed uint64) (codes, qs []hamming.Code) {
				return hammingtest.Clustered[hamming.Code](n, size, queries, seed)
			}, nil
		}
	}
	return nil, fmt.Errorf("bench: unknown data set %q; want one of:\n%s", name, DataSets)
}

// indexRow is one method's line in the table.
type indexRow struct {
	n, data, name        string
	build                string
	bytesPerCode         string
	cpu50, cpu99         string
	mean, p50, p99, maxL string
	qps                  string
	recall               string
	load                 string // the 1-minute load average after the row's queries
	curve                bool   // a hamming.Index row, for the trade-off curve
}

// Index prints the table of `bench index`: for each data set, the index
// beside brute force (and faiss and the reference when given), then each
// data set's memory and snapshot times.
func Index(w io.Writer, cfg IndexConfig) error {
	if len(cfg.Sizes) == 0 || slices.Min(cfg.Sizes) <= 0 || cfg.Queries <= 0 {
		return fmt.Errorf("bench: want --n and --queries above 0, got %v and %d", cfg.Sizes, cfg.Queries)
	}
	if len(cfg.Widths) == 0 {
		cfg.Widths = []int{0}
	}
	for _, wd := range cfg.Widths {
		if wd != 0 && (wd < 12 || wd > 29) {
			return fmt.Errorf("bench: width %d: want 0 (the default) or 12 to 29 bits", wd)
		}
	}
	if len(cfg.Data) == 0 {
		cfg.Data = []string{"mixed"}
	}
	gens := make([]func(int, int, uint64) ([]hamming.Code, []hamming.Code), len(cfg.Data))
	for i, name := range cfg.Data {
		g, err := dataSet(name)
		if err != nil {
			return err
		}
		gens[i] = g
	}
	cfg.Sample = max(1, min(cfg.Sample, cfg.Queries))
	ncpu := runtime.NumCPU()
	fmt.Fprintf(w, "Hamming index: %v codes, %d queries, radius %d, data %s\n%s, %d cores; latency on one goroutine; load average at start %s\n\n",
		cfg.Sizes, cfg.Queries, cfg.Radius, strings.Join(cfg.Data, ", "), cpuName(), ncpu, loadAverage())
	var rows []indexRow
	var notes []string
	for _, n := range cfg.Sizes {
		for i, name := range cfg.Data {
			r, note, err := indexData(w, cfg, n, name, gens[i])
			if err != nil {
				return err
			}
			rows = append(rows, r...)
			notes = append(notes, note)
		}
	}
	if cfg.Reference != "" {
		r, err := referenceRow(cfg, cfg.Sizes[0])
		if err != nil {
			fmt.Fprintf(w, "reference: %v\n\n", err)
		} else {
			rows = append(rows, r)
		}
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "codes\tdata\tmethod\tbuild s\tbytes/code\tCPU p50 ms\tCPU p99 ms\twall mean ms\twall p50 ms\twall p99 ms\twall max ms\tqueries/s (%d cores)\trecall\tload\t\n", ncpu)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.n, r.data, r.name, r.build, r.bytesPerCode, r.cpu50, r.cpu99, r.mean, r.p50, r.p99, r.maxL, r.qps, r.recall, r.load)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(cfg.Widths) > 1 {
		fmt.Fprintf(w, "\nMemory against time (hamming.Index rows; widths are the tables' substring widths in bits):\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "codes\tdata\tmethod\tbytes/code\tCPU p99 ms\twall p99 ms\t\n")
		for _, r := range rows {
			if r.curve {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", r.n, r.data, r.name, r.bytesPerCode, r.cpu99, r.p99)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\n%s", strings.Join(notes, ""))
	fmt.Fprintf(w, "recall: %d sampled queries against brute force; brute-force latency over the same sample\n", cfg.Sample)
	fmt.Fprintf(w, "CPU p50/p99: the timing thread's CPU time for each query (clock_gettime CLOCK_THREAD_CPUTIME_ID on a locked OS thread), without the time other processes held the core; wall: elapsed time for each query\n")
	fmt.Fprintf(w, "load: the 1-minute load average read after the row's queries (%d cores)\n", ncpu)
	return nil
}

// indexData measures one data set of n codes. Brute force (and faiss) run
// before the builds; each width but the last is built from a copy,
// measured and dropped; the last is built in place, so that the input
// becomes the index: the heap after that build is the index's, and the
// peak resident set is the build's.
func indexData(w io.Writer, cfg IndexConfig, n int, data string, gen func(int, int, uint64) ([]hamming.Code, []hamming.Code)) ([]indexRow, string, error) {
	size := strconv.Itoa(n)
	before := heapInUse()
	codes, queries := gen(n, cfg.Queries, cfg.Seed)
	if len(queries) < cfg.Sample {
		return nil, "", fmt.Errorf("bench: data set %s made %d queries of %d codes", data, len(queries), len(codes))
	}
	var rows []indexRow

	// Brute force: the truth for recall, and a method of its own.
	sample := queries[:cfg.Sample]
	truth := make([][]hamming.Result, len(sample))
	bruteLat, bruteCPU := latencies(len(sample), func(i int, dst []hamming.Result) []hamming.Result {
		truth[i] = scan(codes, sample[i], cfg.Radius, nil)
		return dst
	})
	total, truthBytes := 0, int64(0)
	for _, t := range truth {
		total += len(t)
		truthBytes += int64(cap(t)) * int64(unsafe.Sizeof(hamming.Result{}))
	}
	brute := indexRow{n: size, data: data, name: "brute-force popcount", build: "-", bytesPerCode: "32.0", recall: recall(total, total)}
	brute.setLatency(bruteLat, bruteCPU)
	brute.qps = fmt.Sprintf("%.0f", allCores(sample, func(q hamming.Code, dst []hamming.Result) []hamming.Result {
		return scan(codes, q, cfg.Radius, dst)
	}))
	brute.load = loadAverage()
	if cfg.Python != "" {
		more, err := faissRows(cfg, codes, queries, truth)
		if err != nil {
			fmt.Fprintf(w, "faiss: %v\n\n", err)
		}
		for i := range more {
			more[i].n, more[i].data = size, data
		}
		rows = append(rows, more...)
	}

	ids := make([]uint64, len(codes))
	for i := range ids {
		ids[i] = uint64(i)
	}
	// measure times the queries on x and checks the sample against the
	// truth; bytes is the heap the index holds.
	measure := func(x *hamming.Index, name string, build time.Duration, bytes int64) indexRow {
		row := indexRow{n: size, data: data, name: name, build: seconds(build), bytesPerCode: fmt.Sprintf("%.1f", float64(bytes)/float64(n)), curve: true}
		row.setLatency(latencies(len(queries), func(i int, dst []hamming.Result) []hamming.Result {
			return x.Search(queries[i], cfg.Radius, dst)
		}))
		row.qps = fmt.Sprintf("%.0f", allCores(queries, func(q hamming.Code, dst []hamming.Result) []hamming.Result {
			return x.Search(q, cfg.Radius, dst)
		}))
		row.load = loadAverage()
		found, extra := 0, 0
		for i, q := range sample {
			f, e := compare(truth[i], x.Search(q, cfg.Radius, nil))
			found, extra = found+f, extra+e
		}
		row.recall = recall(found, total)
		if extra > 0 {
			row.recall += fmt.Sprintf(" (%d not within radius!)", extra)
		}
		return row
	}
	var curve []indexRow
	last := cfg.Widths[len(cfg.Widths)-1]
	for _, width := range cfg.Widths[:len(cfg.Widths)-1] {
		h0 := heapInUse()
		start := time.Now()
		x := hamming.BuildWidth(ids, codes, width)
		build := time.Since(start)
		curve = append(curve, measure(x, fmt.Sprintf("hamming.Index, %s", x.Widths()), build, heapInUse()-h0))
		runtime.KeepAlive(x)
	}
	debug.FreeOSMemory() // so that the peak below is the last build's
	resetPeakRSS()
	start := time.Now()
	x := hamming.BuildInPlace(ids, codes, last)
	build := time.Since(start)
	// From here on codes and ids are the index's.
	peak := peakRSS()
	after := heapInUse() - truthBytes // the sample's answers are not the index's
	name := "hamming.Index, " + x.Widths()
	if last == 0 {
		name += " (default)"
	}
	row := measure(x, name, build, after-before)
	rows = append(append(curve, row), append([]indexRow{brute}, rows...)...)

	xBytes := x.Bytes()
	snap := "not measured (--snapshot=false)"
	if !cfg.NoSnapshot {
		var err error
		if snap, err = snapshotTimes(x, sample, cfg.Radius); err != nil {
			return nil, "", err
		}
	}
	raw := 32 * float64(n)
	peakNote := "peak resident set not known here"
	if peak > 0 {
		peakNote = fmt.Sprintf("peak resident set %.1f MB making the codes and building in place (the input's ids and codes, %.1f MB, become the index's)", mb(peak), 40*float64(n)/1e6)
	}
	note := fmt.Sprintf("%d %s: heap %.1f MB for the index, %.2fx the %.1f MB of raw codes (hamming.Index.Bytes: %.1f MB); %s\n%d %s: %.1f true matches a query; snapshot: %s\n",
		n, data, mb(after-before), float64(after-before)/raw, raw/1e6, float64(xBytes)/1e6, peakNote, n, data, float64(total)/float64(len(sample)), snap)
	return rows, note, nil
}

func (r *indexRow) setLatency(d, cpu []time.Duration) {
	ms := func(v time.Duration) string { return fmt.Sprintf("%.4f", v.Seconds()*1e3) }
	r.cpu50, r.cpu99 = "-", "-"
	if cpu != nil {
		slices.Sort(cpu)
		r.cpu50, r.cpu99 = ms(cpu[len(cpu)/2]), ms(cpu[min(len(cpu)-1, len(cpu)*99/100)])
	}
	slices.Sort(d)
	var sum time.Duration
	for _, v := range d {
		sum += v
	}
	r.mean = ms(sum / time.Duration(len(d)))
	r.p50, r.p99, r.maxL = ms(d[len(d)/2]), ms(d[min(len(d)-1, len(d)*99/100)]), ms(d[len(d)-1])
}

// latencies times each of n queries on this goroutine, locked to its OS
// thread, and returns the wall-clock time and the thread's CPU time of
// each (nil where the system does not tell it). On a shared machine the
// CPU time is the query's own: it leaves out the time other processes had
// the core, which the wall-clock time includes.
func latencies(n int, search func(i int, dst []hamming.Result) []hamming.Result) (wall, cpu []time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wall, cpu = make([]time.Duration, n), make([]time.Duration, n)
	var dst []hamming.Result
	for i := range n {
		c0 := threadCPU()
		start := time.Now()
		dst = search(i, dst[:0])
		wall[i] = time.Since(start)
		cpu[i] = threadCPU() - c0
		if c0 < 0 {
			cpu = nil
			break
		}
	}
	if cpu == nil {
		for i := range n {
			start := time.Now()
			dst = search(i, dst[:0])
			wall[i] = time.Since(start)
		}
	}
	return wall, cpu
}

// loadAverage returns the 1-minute load average, or "-".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "-"
}

// allCores returns queries a second with one goroutine per core, each
// going through all the queries.
func allCores(queries []hamming.Code, search func(hamming.Code, []hamming.Result) []hamming.Result) float64 {
	ncpu := runtime.NumCPU()
	var done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := range ncpu {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []hamming.Result
			for i := range queries {
				dst = search(queries[(i+g*len(queries)/ncpu)%len(queries)], dst[:0])
			}
			done.Add(int64(len(queries)))
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}

func scan(codes []hamming.Code, q hamming.Code, r int, dst []hamming.Result) []hamming.Result {
	for i, c := range codes {
		if d := hamming.Distance(q, c); d <= r {
			dst = append(dst, hamming.Result{ID: uint64(i), Distance: d})
		}
	}
	return dst
}

// compare returns how many of want got holds, and how many of got are not
// in want.
func compare(want, got []hamming.Result) (found, extra int) {
	in := make(map[hamming.Result]bool, len(want))
	for _, r := range want {
		in[r] = true
	}
	for _, r := range got {
		if in[r] {
			found++
			delete(in, r)
		} else {
			extra++
		}
	}
	return found, extra
}

func recall(found, total int) string {
	if total == 0 {
		return "no true matches in the sample"
	}
	return fmt.Sprintf("%.2f%% (%d/%d)", 100*float64(found)/float64(total), found, total)
}

// snapshotTimes writes x to a file and loads it back. x is garbage once
// written, so that a large index and its copy need not fit at once; the
// copy must give x's answers for the sample.
func snapshotTimes(x *hamming.Index, sample []hamming.Code, radius int) (string, error) {
	f, err := os.CreateTemp("", "safeguard-index-*.snap")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	start := time.Now()
	size, err := x.WriteTo(f)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return "", fmt.Errorf("bench: writing snapshot: %v", err)
	}
	write := time.Since(start)
	n := x.Len()
	want := make([][]hamming.Result, len(sample))
	for i, q := range sample {
		want[i] = x.Search(q, radius, nil)
	}
	runtime.GC() // x is dead here: nothing reads it again
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	start = time.Now()
	y, err := hamming.Read(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return "", err
	}
	load := time.Since(start)
	for i, q := range sample {
		if f, e := compare(want[i], y.Search(q, radius, nil)); f != len(want[i]) || e != 0 {
			return "", fmt.Errorf("bench: the loaded snapshot answers differently")
		}
	}
	perM := load.Seconds() / (float64(n) / 1e6)
	return fmt.Sprintf("%.1f MB, written in %s s, loaded (checked) in %s s = %.3f s per million codes (from the page cache)",
		float64(size)/1e6, seconds(write), seconds(load), perM), nil
}

// writeCodes writes codes as 32 bytes each, most significant first, the
// byte order faiss and the reference read.
func writeCodes(path string, codes []hamming.Code) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var b [32]byte
	for _, c := range codes {
		for i, v := range c {
			binary.BigEndian.PutUint64(b[8*i:], v)
		}
		bw.Write(b[:])
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// faissRows runs bench/faiss_index.py on the same codes and queries, a
// process for each faiss index, and checks what each found for the sample
// queries against brute force's truth.
func faissRows(cfg IndexConfig, codes, queries []hamming.Code, truth [][]hamming.Result) ([]indexRow, error) {
	dir, err := os.MkdirTemp("", "safeguard-faiss-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cp, qp := filepath.Join(dir, "codes"), filepath.Join(dir, "queries")
	if err := writeCodes(cp, codes); err != nil {
		return nil, err
	}
	if err := writeCodes(qp, queries); err != nil {
		return nil, err
	}
	var rows []indexRow
	for _, m := range []struct{ method, name string }{
		{"flat", "faiss IndexBinaryFlat"},
		{"mih0", "faiss IndexBinaryMultiHash 16x16 nflip=0"},
		{"mih1", "faiss IndexBinaryMultiHash 16x16 nflip=1"},
	} {
		var out, errb bytes.Buffer
		cmd := exec.CommandContext(context.Background(), cfg.Python, cfg.FaissScript, m.method, cp, qp, strconv.Itoa(cfg.Radius), strconv.Itoa(len(truth)))
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return rows, fmt.Errorf("%s %s %s: %v: %s", cfg.Python, cfg.FaissScript, m.method, err, strings.TrimSpace(errb.String()))
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		f := strings.Split(lines[0], "\t")
		if len(f) != 7 || len(lines) != 1+len(truth) {
			return rows, fmt.Errorf("faiss_index.py %s printed %d lines, first %q", m.method, len(lines), lines[0])
		}
		found, total, extra := 0, 0, 0
		for i, line := range lines[1:] {
			var got []hamming.Result
			for _, id := range strings.Fields(line) {
				v, err := strconv.ParseUint(id, 10, 64)
				if err != nil {
					return rows, fmt.Errorf("faiss_index.py %s printed id %q", m.method, id)
				}
				got = append(got, hamming.Result{ID: v, Distance: hamming.Distance(queries[i], codes[v%uint64(len(codes))])})
			}
			fd, e := compare(truth[i], got)
			found, total, extra = found+fd, total+len(truth[i]), extra+e
		}
		r := indexRow{name: m.name, build: f[0], bytesPerCode: f[1], cpu50: f[2] + " (mean)", cpu99: "-", mean: f[3], p50: f[4], p99: f[5], maxL: f[6], qps: "-", recall: recall(found, total)}
		if extra > 0 {
			r.recall += fmt.Sprintf(" (%d not within radius!)", extra)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// referenceRow runs the reference benchmark-query -m mih, which builds its
// own index of cfg.N random codes with planted near-duplicates and times
// 8 probes (one per dihedral variant) for each of its queries.
func referenceRow(cfg IndexConfig, n int) (indexRow, error) {
	groups := max(1, min(cfg.Queries, 800)/8)
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(context.Background(), cfg.Reference, "-m", "mih", "-b", strconv.Itoa(n), "-q", strconv.Itoa(groups), "-d", strconv.Itoa(cfg.Radius))
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return indexRow{}, fmt.Errorf("%s: %v: %s", cfg.Reference, err, strings.TrimSpace(errb.String()))
	}
	var build, total float64
	for _, line := range strings.Split(out.String(), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(strings.TrimSpace(value), 64)
		switch strings.TrimSpace(name) {
		case "MIH index build time":
			build = v
		case "TOTAL QUERY SECONDS":
			total = v
		}
	}
	if build == 0 || total == 0 {
		return indexRow{}, fmt.Errorf("%s printed no times: %q", cfg.Reference, out.String())
	}
	return indexRow{n: strconv.Itoa(n), name: "reference C++ MIH (own codes)", build: fmt.Sprintf("%.2f", build), bytesPerCode: "-", cpu50: "-", cpu99: "-",
		mean: fmt.Sprintf("%.4f", total/float64(8*groups)*1e3), p50: "-", p99: "-", maxL: "-", qps: "-", recall: "-"}, nil
}

// resetPeakRSS starts Linux's record of the peak resident set afresh
// (clear_refs 5); peakRSS reads it, or returns -1.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func mb(b int64) float64 { return float64(b) / 1e6 }

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }
