package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/storetest"
)

// StartupConfig says what `bench startup` measures.
type StartupConfig struct {
	N int // PDQ entries in the store
	// Data is the SQLite store's directory, kept between runs: a store
	// that already holds a bank of N entries is not imported again.
	Data string
	// DatabaseURL, when set, measures PostgreSQL instead of SQLite.
	DatabaseURL string
}

const startupBank = "startup"

// Startup imports N random PDQ entries (timing each million), then times
// loading the matcher from the change feed, writing its snapshot, loading
// it from the snapshot, and a server's start from a clean stop to /readyz.
func Startup(w io.Writer, cfg StartupConfig) error {
	ctx := context.Background()
	scfg := server.Config{Data: cfg.Data, DatabaseURL: cfg.DatabaseURL}
	st, err := server.OpenStores(ctx, scfg)
	if err != nil {
		return err
	}
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	fmt.Fprintf(w, "Start-up: %d PDQ entries, store %s\n%s, %d cores\n\n", cfg.N, storeName(cfg), cpuName(), runtime.NumCPU())
	if b, err := st.Bank(ctx, startupBank); err == nil && b.Entries == int64(cfg.N) {
		fmt.Fprintf(w, "import: the store already holds %d entries (not imported again)\n", b.Entries)
	} else {
		if err := importTimed(ctx, w, st, cfg.N); err != nil {
			return err
		}
	}

	m := match.New(st)
	wall, cpu := timed(func() { _, err = m.Load(ctx, "") })
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "load from the change feed: %.2f s wall, %.2f s CPU (%d PDQ codes)\n", wall.Seconds(), cpu.Seconds(), m.Stats().PDQ)
	path := filepath.Join(cfg.Data, "index.snapshot")
	wall, cpu = timed(func() { err = m.WriteSnapshot(ctx, path) })
	if err != nil {
		return err
	}
	size := int64(0)
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(w, "write the snapshot: %.2f s wall, %.2f s CPU, %.1f MB\n", wall.Seconds(), cpu.Seconds(), float64(size)/1e6)
	m = nil
	m2 := match.New(st)
	var info match.LoadInfo
	wall, cpu = timed(func() { info, err = m2.Load(ctx, path) })
	if err != nil {
		return err
	}
	if !info.Snapshot {
		return fmt.Errorf("the snapshot was not used: %v", info.Refused)
	}
	fmt.Fprintf(w, "load from the snapshot: %.2f s wall, %.2f s CPU (%d PDQ codes, %d changes after it)\n",
		wall.Seconds(), cpu.Seconds(), m2.Stats().PDQ, info.Changes)
	m2 = nil

	// A server as serve runs it: ports at once, the index in the
	// background; timed from New to /readyz 200, then stopped cleanly.
	scfg.Listen, scfg.OperatorListen, scfg.LoadInBackground, scfg.IndexSnapshot = "127.0.0.1:0", "", true, path
	for _, run := range []string{"after a clean stop"} {
		start := time.Now()
		cpu0 := cpuTime()
		srv, err := server.New(ctx, scfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			return err
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- srv.Run(runCtx) }()
		var alive time.Duration
		for {
			resp, err := http.Get("http://" + srv.Addr() + "/readyz")
			if err == nil {
				resp.Body.Close()
				if alive == 0 {
					alive = time.Since(start)
				}
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		ready, cpuReady := time.Since(start), cpuTime()-cpu0
		stop()
		if err := <-done; err != nil { // Run closes the store
			return err
		}
		st = nil
		fmt.Fprintf(w, "server %s: answering (/readyz 503) after %.3f s, ready after %.2f s wall, %.2f s CPU\n",
			run, alive.Seconds(), ready.Seconds(), cpuReady.Seconds())
	}
	fmt.Fprintln(w, "\nfrom the page cache (the files were just written or read); CPU: this process's user + system time")
	return nil
}

func storeName(cfg StartupConfig) string {
	if cfg.DatabaseURL != "" {
		return "PostgreSQL"
	}
	return "SQLite in " + cfg.Data
}

func timed(f func()) (wall, cpu time.Duration) {
	start, c := time.Now(), cpuTime()
	f()
	return time.Since(start), cpuTime() - c
}

// importTimed imports n entries into a new bank in one AddEntries,
// printing the wall and CPU time per entry of each million.
func importTimed(ctx context.Context, w io.Writer, st store.Store, n int) error {
	if _, err := st.CreateBank(ctx, bank.Bank{Name: startupBank}); err != nil {
		return err
	}
	fmt.Fprintln(w, "import (one AddEntries), per million entries:")
	start, cpu0 := time.Now(), cpuTime()
	last, lastCPU, lastN := start, cpu0, int64(0)
	step := int64(1_000_000)
	if n < 2_000_000 {
		step = int64(max(n/4, 1))
	}
	res, err := st.AddEntries(ctx, startupBank, storetest.Synthetic(n, 1), func(k int64) {
		if k-lastN < step && k < int64(n) {
			return
		}
		now, c := time.Now(), cpuTime()
		fmt.Fprintf(w, "  %9d: %6.2f µs wall, %6.2f µs CPU an entry\n", k,
			float64(now.Sub(last).Microseconds())/float64(k-lastN), float64((c-lastCPU).Microseconds())/float64(k-lastN))
		last, lastCPU, lastN = now, c, k
	})
	if err != nil {
		return err
	}
	wall, cpu := time.Since(start), cpuTime()-cpu0
	fmt.Fprintf(w, "import: %d entries in %.1f s wall, %.2f µs wall and %.2f µs CPU an entry (commit included)\n",
		res.Added, wall.Seconds(), float64(wall.Microseconds())/float64(n), float64(cpu.Microseconds())/float64(n))
	return nil
}
