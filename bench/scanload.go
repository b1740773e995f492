package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
)

// ScanConfig says what `bench scan` measures.
type ScanConfig struct {
	// DatabaseURL adds a PostgreSQL run (in a schema of its own, dropped
	// afterwards); SQLite always runs, in a temporary directory.
	DatabaseURL string
	NoSQLite    bool          // measure PostgreSQL alone
	Concurrency []int         // requests in flight; default 8 and 64
	Duration    time.Duration // per run; default 5s
	MaxScans    int           // per run, whichever comes first; default 20000
	Images      int           // distinct JPEGs sent round robin; default 32
	Width       int           // of the JPEGs, whose height is 3/4 of it; default 640
	Listed      int           // of them in a bank, so a rule blocks and notifies; default 2
	BankSize    int           // random PDQ entries added to the bank besides; default 10000
	// CPUProfile, when set, receives a pprof CPU profile of the server
	// during the timed part of the first run (the load generator is
	// another process, so it is not in it).
	CPUProfile io.Writer
}

func (c ScanConfig) withDefaults() ScanConfig {
	if len(c.Concurrency) == 0 {
		c.Concurrency = []int{8, 64}
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.MaxScans <= 0 {
		c.MaxScans = 20000
	}
	if c.Images <= 0 {
		c.Images = 32
	}
	if c.Width < 16 {
		c.Width = 640
	}
	if c.Listed < 0 || c.Listed > c.Images {
		c.Listed = min(2, c.Images)
	}
	if c.BankSize < 0 {
		c.BankSize = 0
	}
	return c
}

// Scan runs a server in this process on a loopback port, sets up a bank, a
// rule that blocks and notifies a webhook receiver (also on loopback) and
// an integrator key, then scans JPEGs through HTTP from Concurrency
// clients and prints scans per second and latency percentiles per
// backend and concurrency. Load generator and server share the machine's
// cores, as they would not in production.
func Scan(w io.Writer, cfg ScanConfig) error {
	cfg = cfg.withDefaults()
	imgs, err := scanImages(cfg)
	if err != nil {
		return err
	}
	type backend struct {
		name string
		open func() (server.Config, func(), error)
	}
	var backends []backend
	if !cfg.NoSQLite {
		backends = append(backends, backend{"sqlite", func() (server.Config, func(), error) {
			dir, err := os.MkdirTemp("", "safeguard-bench-")
			return server.Config{Data: dir}, func() { os.RemoveAll(dir) }, err
		}})
	}
	if cfg.DatabaseURL != "" {
		backends = append(backends, backend{"postgres", func() (server.Config, func(), error) {
			u, drop, err := freshSchema(cfg.DatabaseURL)
			if err != nil {
				return server.Config{}, drop, err
			}
			// A data directory of its own: the spool directory in it
			// must be the server's alone, as a shared /tmp is not.
			dir, err := os.MkdirTemp("", "safeguard-bench-")
			if err != nil {
				drop()
				return server.Config{}, nil, err
			}
			return server.Config{DatabaseURL: u, Data: dir}, func() { drop(); os.RemoveAll(dir) }, nil
		}})
	}
	fmt.Fprintf(w, "scan load: %d distinct %dx%d JPEGs (~%d KB), %d listed (block + notify), bank of %d PDQ entries; %d CPUs (%s); up to %s or %d scans per run\n\n",
		len(imgs), cfg.Width, cfg.Width*3/4, len(imgs[0])>>10, cfg.Listed, cfg.BankSize+3*cfg.Listed, runtime.NumCPU(), cpuName(), cfg.Duration, cfg.MaxScans)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tconcurrency\tscans\tscans/s\tp50 ms\tp99 ms\tmax ms\tCPU ms/scan\tCPU-bound scans/s\terrors\tmatched\twebhooks\t")
	for _, b := range backends {
		for _, c := range cfg.Concurrency {
			scfg, cleanup, err := b.open()
			if err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			r, err := scanRun(scfg, cfg, imgs, c)
			cfg.CPUProfile = nil // one run's profile
			cleanup()
			if err != nil {
				return fmt.Errorf("%s, concurrency %d: %w", b.name, c, err)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t%.2f\t%.0f\t%d\t%d\t%d\t\n", b.name, c, r.n, r.rate,
				ms(r.p50), ms(r.p99), ms(r.max), ms(r.cpu), float64(runtime.NumCPU())/r.cpu.Seconds(), r.errors, r.matched, r.webhooks)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nCPU ms/scan is the server's CPU time per scan: this process's (server and webhook receiver) plus, on\nPostgreSQL, its backends' (from /proc); the load generator is a process of its own, not counted.\nCPU-bound scans/s is what %d idle CPUs would give at that cost, when the machine is shared and the\nwall-clock rate is not.\n", runtime.NumCPU())
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type scanResult struct {
	n, errors, matched, webhooks int
	rate                         float64
	p50, p99, max                time.Duration
	cpu                          time.Duration // server CPU per scan (the load generator is another process)
}

func scanRun(scfg server.Config, cfg ScanConfig, imgs [][]byte, concurrency int) (scanResult, error) {
	ctx := context.Background()
	scfg.Listen = "127.0.0.1:0"
	scfg.WebhookAllow = []string{"127.0.0.1/32"} // the receiver below
	st, err := server.OpenStores(ctx, scfg)
	if err != nil {
		return scanResult{}, err
	}
	adminKey, _, err := auth.Create(ctx, st, auth.Admin, "bench", "bench")
	if err != nil {
		st.Close()
		return scanResult{}, err
	}
	srv, err := server.New(ctx, scfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		st.Close()
		return scanResult{}, err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	defer func() { stop(); <-done }()

	var hooks struct {
		sync.Mutex
		n int
	}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hooks.Lock()
		hooks.n++
		hooks.Unlock()
	}))
	defer recv.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency,
		DialContext: (&net.Dialer{}).DialContext}, Timeout: time.Minute}
	base := "http://" + srv.Addr()
	call := func(key, method, path, ctype string, body []byte, out any) error {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, b)
		}
		if out != nil {
			return json.Unmarshal(b, out)
		}
		return nil
	}
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	if err := call(adminKey, "POST", "/v1/banks", "application/json", js(map[string]any{"name": "bench"}), nil); err != nil {
		return scanResult{}, err
	}
	for i := range cfg.Listed {
		if err := call(adminKey, "POST", "/v1/banks/bench/entries", "image/jpeg", imgs[i], nil); err != nil {
			return scanResult{}, err
		}
	}
	if cfg.BankSize > 0 {
		var list strings.Builder
		rng := rand.New(rand.NewPCG(1, 2))
		for range cfg.BankSize {
			fmt.Fprintf(&list, "%016x%016x%016x%016x\n", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())
		}
		if err := call(adminKey, "POST", "/v1/banks/bench/import?format=text&source=bench", "text/plain", []byte(list.String()), nil); err != nil {
			return scanResult{}, err
		}
	}
	var hook struct{ Secret string }
	if err := call(adminKey, "POST", "/v1/webhooks", "application/json", js(map[string]any{"name": "bench", "url": recv.URL}), &hook); err != nil {
		return scanResult{}, err
	}
	rule := map[string]any{"name": "bench", "banks": []string{"bench"},
		"actions": []map[string]any{{"kind": "block"}, {"kind": "notify", "webhook": "bench"}}}
	if err := call(adminKey, "POST", "/v1/rules", "application/json", js(rule), nil); err != nil {
		return scanResult{}, err
	}
	var key struct{ Key string }
	if err := call(adminKey, "POST", "/v1/keys", "application/json", js(map[string]any{"role": "integrator", "name": "load"}), &key); err != nil {
		return scanResult{}, err
	}

	// Warm up: one scan per image, untimed.
	for i, img := range imgs {
		if err := call(key.Key, "POST", fmt.Sprintf("/v1/scan?content_id=warm-%d", i), "image/jpeg", img, nil); err != nil {
			return scanResult{}, err
		}
	}
	hooks.Lock()
	hooks.n = 0
	hooks.Unlock()

	// The load runs in a child process (this binary's hidden scan-client
	// command), so that the CPU measured here is the server's alone: this
	// process's (server and webhook receiver) plus, on PostgreSQL, the
	// database backends serving its connections.
	self, err := os.Executable()
	if err != nil {
		return scanResult{}, err
	}
	pgCPU := func() time.Duration { return 0 }
	if scfg.DatabaseURL != "" {
		pgCPU = postgresBackendCPU(scfg.DatabaseURL)
	}
	cmd := exec.Command(self, "scan-client", "--base", base, "--key", key.Key, "--width", strconv.Itoa(cfg.Width),
		"--images", strconv.Itoa(cfg.Images), "--concurrency", strconv.Itoa(concurrency),
		"--duration", cfg.Duration.String(), "--max", strconv.Itoa(cfg.MaxScans))
	cmd.Stderr = os.Stderr
	var out bytes.Buffer
	cmd.Stdout = &out
	cpu0, pg0 := cpuTime(), pgCPU()
	if cfg.CPUProfile != nil {
		if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
			return scanResult{}, err
		}
	}
	err = cmd.Run()
	if cfg.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return scanResult{}, fmt.Errorf("load generator: %v", err)
	}
	var load clientResult
	if err := json.Unmarshal(out.Bytes(), &load); err != nil {
		return scanResult{}, fmt.Errorf("load generator: %v", err)
	}
	lat, errs, matched := load.Latencies, load.Errors, load.Matched
	elapsed, cpu := time.Duration(load.ElapsedNs), cpuTime()-cpu0+pgCPU()-pg0
	if len(lat) == 0 {
		return scanResult{}, fmt.Errorf("no scan succeeded: %v", load.FirstError)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	// Give the dispatcher a moment to drain, so the webhook count says
	// whether it keeps up.
	time.Sleep(time.Second)
	hooks.Lock()
	n := hooks.n
	hooks.Unlock()
	return scanResult{n: len(lat), errors: errs, matched: matched, webhooks: n, rate: float64(len(lat)) / elapsed.Seconds(),
		cpu: cpu / time.Duration(len(lat)+errs),
		p50: pct(0.50), p99: pct(0.99), max: lat[len(lat)-1]}, nil
}

// freshSchema creates a schema for one run and returns a URL whose
// connections use it, and a function that drops it.
func freshSchema(base string) (string, func(), error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("sg_bench_%016x", rand.Uint64())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", nil, err
	}
	drop := func() {
		if conn, err := pgx.Connect(ctx, base); err == nil {
			conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE")
			conn.Close(ctx)
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", name)
	q.Set("application_name", name) // so that its backends' CPU can be found
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// clientResult is what the scan-client process reports.
type clientResult struct {
	Latencies  []time.Duration `json:"latencies_ns"`
	Errors     int             `json:"errors"`
	Matched    int             `json:"matched"`
	ElapsedNs  int64           `json:"elapsed_ns"`
	FirstError string          `json:"first_error"`
}

// scanClient is the load generator: it scans the synthetic JPEGs round
// robin through POST /v1/scan from concurrency clients and writes a
// clientResult as JSON to w.
func scanClient(w io.Writer, base, key string, cfg ScanConfig, concurrency int) error {
	imgs, err := scanImages(cfg)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency,
		DialContext: (&net.Dialer{}).DialContext}, Timeout: time.Minute}
	scan := func(i int, out any) error {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/scan?content_id=load-%d&surface=post", base, i), bytes.NewReader(imgs[i%len(imgs)]))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "image/jpeg")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			return fmt.Errorf("POST /v1/scan: %s %s", resp.Status, b)
		}
		return json.Unmarshal(b, out)
	}
	var mu sync.Mutex
	var res clientResult
	next := make(chan int)
	deadline := time.Now().Add(cfg.Duration)
	go func() {
		for i := 0; i < cfg.MaxScans && time.Now().Before(deadline); i++ {
			next <- i
		}
		close(next)
	}()
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				var ans struct {
					Matches []json.RawMessage `json:"matches"`
				}
				t0 := time.Now()
				err := scan(i, &ans)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					res.Errors++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
				} else {
					res.Latencies = append(res.Latencies, d)
					if len(ans.Matches) > 0 {
						res.Matched++
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.ElapsedNs = int64(time.Since(start))
	return json.NewEncoder(w).Encode(res)
}

// scanImages makes the benchmark's JPEGs, the same in both processes.
func scanImages(cfg ScanConfig) ([][]byte, error) {
	imgs := make([][]byte, cfg.Images)
	for i := range imgs {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, Synthetic(cfg.Width, cfg.Width*3/4, uint64(1000+i)), &jpeg.Options{Quality: 85}); err != nil {
			return nil, err
		}
		imgs[i] = b.Bytes()
	}
	return imgs, nil
}

// postgresBackendCPU returns a function giving the CPU time (user +
// system, from /proc) of the PostgreSQL backends serving connections whose
// application_name is the URL's: the database's share of the server's
// work, when PostgreSQL runs on this machine. Backends that exit between
// two calls lose their time, so the figure can only understate; the
// server's pool keeps its connections open through a run.
func postgresBackendCPU(dbURL string) func() time.Duration {
	u, err := url.Parse(dbURL)
	name := ""
	if err == nil {
		name = u.Query().Get("application_name")
	}
	return func() time.Duration {
		if name == "" {
			return 0
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return 0
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()", name)
		if err != nil {
			return 0
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return 0
		}
		var total time.Duration
		for _, pid := range pids {
			total += procCPU(int(pid))
		}
		return total
	}
}

// procCPU is a process's user + system time from /proc/<pid>/stat, or 0.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// after its closing parenthesis (utime and stime are fields 14 and 15).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is Linux's USER_HZ, the unit of /proc's times.
const clockTicks = 100
