package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress draws "hashed 1200/5000 (24%) 310/s" on stderr, redrawn at most
// ten times a second, and only when stderr is a terminal: piped or
// redirected output stays clean.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
	start time.Time
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, total int) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	return &progress{w: w, total: total, start: time.Now()}
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
	pct := 100
	if p.total > 0 {
		pct = 100 * p.n / p.total
	}
	fmt.Fprintf(p.w, "\r\033[Khashed %d/%d (%d%%) %.0f/s", p.n, p.total, pct, rate)
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
