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
	N       int    // codes in the index
	Queries int    // queries timed
	Radius  int    // search radius
	Sample  int    // queries checked against brute force for recall (and timed brute force)
	Seed    uint64 // of the synthetic codes
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
	data, name                string
	build                     string
	bytesPerCode              string
	cpu, mean, p50, p99, maxL string
	qps                       string
	recall                    string
}

// Index prints the table of `bench index`: for each data set, the index
// beside brute force (and faiss and the reference when given), then each
// data set's memory and snapshot times.
func Index(w io.Writer, cfg IndexConfig) error {
	if cfg.N <= 0 || cfg.Queries <= 0 {
		return fmt.Errorf("bench: want --n and --queries above 0, got %d and %d", cfg.N, cfg.Queries)
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
	fmt.Fprintf(w, "Hamming index: %d codes, %d queries, radius %d, data %s\n%s, %d cores; latency on one goroutine\n\n",
		cfg.N, cfg.Queries, cfg.Radius, strings.Join(cfg.Data, ", "), cpuName(), ncpu)
	var rows []indexRow
	var notes []string
	for i, name := range cfg.Data {
		r, note, err := indexData(w, cfg, name, gens[i])
		if err != nil {
			return err
		}
		rows = append(rows, r...)
		notes = append(notes, note)
	}
	if cfg.Reference != "" {
		r, err := referenceRow(cfg)
		if err != nil {
			fmt.Fprintf(w, "reference: %v\n\n", err)
		} else {
			rows = append(rows, r)
		}
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "data\tmethod\tbuild s\tbytes/code\tCPU ms\tmean ms\tp50 ms\tp99 ms\tmax ms\tqueries/s (%d cores)\trecall\t\n", ncpu)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.data, r.name, r.build, r.bytesPerCode, r.cpu, r.mean, r.p50, r.p99, r.maxL, r.qps, r.recall)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s", strings.Join(notes, ""))
	fmt.Fprintf(w, "recall: %d sampled queries against brute force; brute-force latency over the same sample\n", cfg.Sample)
	fmt.Fprintf(w, "CPU ms: the timing thread's CPU time a query, without the time other processes held the core\n")
	return nil
}

// indexData measures one data set. Brute force (and faiss) run before the
// build, so that the input codes are garbage once Build has copied them:
// the heap after the build is the index's, and the peak resident set is
// the build's with the input.
func indexData(w io.Writer, cfg IndexConfig, data string, gen func(int, int, uint64) ([]hamming.Code, []hamming.Code)) ([]indexRow, string, error) {
	before := heapInUse()
	resetPeakRSS()
	codes, queries := gen(cfg.N, cfg.Queries, cfg.Seed)
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
	brute := indexRow{data: data, name: "brute-force popcount", build: "-", bytesPerCode: "32.0", recall: recall(total, total)}
	brute.setLatency(bruteLat, bruteCPU)
	brute.qps = fmt.Sprintf("%.0f", allCores(sample, func(q hamming.Code, dst []hamming.Result) []hamming.Result {
		return scan(codes, q, cfg.Radius, dst)
	}))
	if cfg.Python != "" {
		more, err := faissRows(cfg, codes, queries, truth)
		if err != nil {
			fmt.Fprintf(w, "faiss: %v\n\n", err)
		}
		for i := range more {
			more[i].data = data
		}
		rows = append(rows, more...)
	}

	ids := make([]uint64, len(codes))
	for i := range ids {
		ids[i] = uint64(i)
	}
	start := time.Now()
	x := hamming.Build(ids, codes)
	build := time.Since(start)
	// From here on the input is garbage: the index holds its own copies.
	peak := peakRSS()
	after := heapInUse() - truthBytes // the sample's answers are not the index's
	perCode := float64(after-before) / float64(cfg.N)
	row := indexRow{data: data, name: "hamming.Index", build: seconds(build), bytesPerCode: fmt.Sprintf("%.1f", perCode)}
	row.setLatency(latencies(len(queries), func(i int, dst []hamming.Result) []hamming.Result {
		return x.Search(queries[i], cfg.Radius, dst)
	}))
	row.qps = fmt.Sprintf("%.0f", allCores(queries, func(q hamming.Code, dst []hamming.Result) []hamming.Result {
		return x.Search(q, cfg.Radius, dst)
	}))
	found, extra := 0, 0
	for i, q := range sample {
		f, e := compare(truth[i], x.Search(q, cfg.Radius, nil))
		found, extra = found+f, extra+e
	}
	row.recall = recall(found, total)
	if extra > 0 {
		row.recall += fmt.Sprintf(" (%d not within radius!)", extra)
	}
	rows = append([]indexRow{row, brute}, rows...)

	xBytes := x.Bytes()
	snap, err := snapshotTimes(x, sample, cfg.Radius)
	if err != nil {
		return nil, "", err
	}
	raw := 32 * float64(cfg.N)
	peakNote := "peak resident set not known here"
	if peak > 0 {
		peakNote = fmt.Sprintf("peak resident set %.1f MB making the codes and building (the input's ids and codes are %.1f MB of it)", mb(peak), 40*float64(cfg.N)/1e6)
	}
	note := fmt.Sprintf("%s: heap %.1f MB for the index, %.2fx the %.1f MB of raw codes (hamming.Index.Bytes: %.1f MB); %s\n%s: %.1f true matches a query; snapshot: %s\n",
		data, mb(after-before), float64(after-before)/raw, raw/1e6, float64(xBytes)/1e6, peakNote, data, float64(total)/float64(len(sample)), snap)
	return rows, note, nil
}

func (r *indexRow) setLatency(d []time.Duration, cpu time.Duration) {
	r.cpu = "-"
	if cpu >= 0 {
		r.cpu = fmt.Sprintf("%.4f", cpu.Seconds()*1e3)
	}
	slices.Sort(d)
	var sum time.Duration
	for _, v := range d {
		sum += v
	}
	ms := func(v time.Duration) string { return fmt.Sprintf("%.4f", v.Seconds()*1e3) }
	r.mean = ms(sum / time.Duration(len(d)))
	r.p50, r.p99, r.maxL = ms(d[len(d)/2]), ms(d[min(len(d)-1, len(d)*99/100)]), ms(d[len(d)-1])
}

// latencies times each of n queries on this goroutine, and returns the
// wall-clock time of each and the thread's mean CPU time a query (-1 where
// Linux's /proc does not tell it). On a shared machine the CPU time is the
// steadier figure: it leaves out the time other processes had the core.
func latencies(n int, search func(i int, dst []hamming.Result) []hamming.Result) ([]time.Duration, time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	out := make([]time.Duration, n)
	var dst []hamming.Result
	cpu0 := threadCPU()
	for i := range n {
		start := time.Now()
		dst = search(i, dst[:0])
		out[i] = time.Since(start)
	}
	cpu1 := threadCPU()
	if cpu0 < 0 || cpu1 < 0 {
		return out, -1
	}
	return out, (cpu1 - cpu0) / time.Duration(n)
}

// threadCPU returns the CPU time the calling thread has used, or -1.
func threadCPU() time.Duration {
	b, err := os.ReadFile("/proc/thread-self/stat")
	if err != nil {
		return -1
	}
	// The command name, field 2, may hold spaces; utime and stime are
	// fields 14 and 15, in clock ticks of 1/100 s.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(u+s) * 10 * time.Millisecond
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
		r := indexRow{name: m.name, build: f[0], bytesPerCode: f[1], cpu: f[2], mean: f[3], p50: f[4], p99: f[5], maxL: f[6], qps: "-", recall: recall(found, total)}
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
func referenceRow(cfg IndexConfig) (indexRow, error) {
	groups := max(1, min(cfg.Queries, 800)/8)
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(context.Background(), cfg.Reference, "-m", "mih", "-b", strconv.Itoa(cfg.N), "-q", strconv.Itoa(groups), "-d", strconv.Itoa(cfg.Radius))
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
	return indexRow{name: "reference C++ MIH (own codes)", build: fmt.Sprintf("%.2f", build), bytesPerCode: "-", cpu: "-",
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
