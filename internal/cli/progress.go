package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress draws "hashed 1200/5000 (24%) 310/s" on stderr (or, with no
// total, "imported 1200 (310/s)"), redrawn at most ten times a second, and
// only when stderr is a terminal: piped or redirected output stays clean.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	verb  string
	total int // 0: unknown
	n     int
	start time.Time
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, verb string, total int) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	return &progress{w: w, verb: verb, total: total, start: time.Now()}
}

// set reports that n items are done, for work that counts for itself.
func (p *progress) set(n int64) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = int(n)
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw()
	}
}

func (p *progress) add() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || p.n == p.total {
		p.last = now
		p.draw()
	}
}

func (p *progress) draw() {
	rate := float64(p.n) / max(time.Since(p.start).Seconds(), 1e-3)
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r\033[K%s %d (%.0f/s)", p.verb, p.n, rate)
	} else {
		fmt.Fprintf(p.w, "\r\033[K%s %d/%d (%d%%) %.0f/s", p.verb, p.n, p.total, 100*p.n/p.total, rate)
	}
	p.shown = true
}

// clear erases the bar so that a message can be printed on a clean line.
func (p *progress) clear() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprintln(p.w)
	}
}
