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
	"runtime"
	"slices"
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
	Concurrency []int         // requests in flight; default 8 and 64
	Duration    time.Duration // per run; default 5s
	MaxScans    int           // per run, whichever comes first; default 20000
	Images      int           // distinct JPEGs sent round robin; default 32
	Width       int           // of the JPEGs, whose height is 3/4 of it; default 640
	Listed      int           // of them in a bank, so a rule blocks and notifies; default 2
	BankSize    int           // random PDQ entries added to the bank besides; default 10000
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
	imgs := make([][]byte, cfg.Images)
	for i := range imgs {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, Synthetic(cfg.Width, cfg.Width*3/4, uint64(1000+i)), &jpeg.Options{Quality: 85}); err != nil {
			return err
		}
		imgs[i] = b.Bytes()
	}
	type backend struct {
		name string
		open func() (server.Config, func(), error)
	}
	backends := []backend{{"sqlite", func() (server.Config, func(), error) {
		dir, err := os.MkdirTemp("", "safeguard-bench-")
		return server.Config{Data: dir}, func() { os.RemoveAll(dir) }, err
	}}}
	if cfg.DatabaseURL != "" {
		backends = append(backends, backend{"postgres", func() (server.Config, func(), error) {
			u, drop, err := freshSchema(cfg.DatabaseURL)
			return server.Config{DatabaseURL: u, Data: os.TempDir()}, drop, err
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
	fmt.Fprintf(w, "\nCPU ms/scan is this process's CPU time (server and load generator) per scan; CPU-bound scans/s\nis what %d idle CPUs would give at that cost, when the machine is shared and the wall-clock rate is not.\n", runtime.NumCPU())
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type scanResult struct {
	n, errors, matched, webhooks int
	rate                         float64
	p50, p99, max                time.Duration
	cpu                          time.Duration // per scan, server and load generator together
}

func scanRun(scfg server.Config, cfg ScanConfig, imgs [][]byte, concurrency int) (scanResult, error) {
	ctx := context.Background()
	scfg.Listen = "127.0.0.1:0"
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

	var mu sync.Mutex
	var lat []time.Duration
	var errs, matched int
	var firstErr error
	next := make(chan int)
	deadline := time.Now().Add(cfg.Duration)
	go func() {
		for i := 0; i < cfg.MaxScans && time.Now().Before(deadline); i++ {
			next <- i
		}
		close(next)
	}()
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), cpuTime()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				var ans struct {
					Matches []json.RawMessage `json:"matches"`
				}
				t0 := time.Now()
				err := call(key.Key, "POST", fmt.Sprintf("/v1/scan?content_id=load-%d&surface=post", i), "image/jpeg", imgs[i%len(imgs)], &ans)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					lat = append(lat, d)
					if len(ans.Matches) > 0 {
						matched++
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	if len(lat) == 0 {
		return scanResult{}, fmt.Errorf("no scan succeeded: %v", firstErr)
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
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
