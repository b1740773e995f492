// Package bodyrate holds request bodies to a minimum rate. A body admitted
// to the server's body budget keeps its share of it, and a connection,
// until it has arrived; without a floor a client sending a few bytes a
// second keeps both for the whole read timeout (a slow-read attack) while
// every other upload waits. With one, after a short grace, a body must
// keep up an average of Rate.Min bytes a second or its read fails with an
// *Error, which every entry point answers 408, and the handler returns,
// giving back what it held.
//
// The server wraps each listener's handler in Rate.Handler once; the
// deadline is the connection's own read deadline, moved as bytes arrive
// (http.ResponseController.SetReadDeadline), so no goroutine or timer is
// kept per request.
package bodyrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// Rate is the pace a request body must keep.
type Rate struct {
	// Min is the bytes a second a body must average once Grace is over,
	// counted from its first read (not from the request's arrival: a
	// request waiting for the body budget has read nothing yet); 0 sets
	// no minimum.
	Min int64
	// Grace is the time a body has before the rate counts: a body of
	// Min×Grace bytes may arrive at any pace within it.
	Grace time.Duration
	// Whole bounds a body's whole reading, from the handler's start, as
	// the server's read timeout did before (the connection's deadline is
	// this package's to move); 0 sets no bound.
	Whole time.Duration
}

// Default is 64 KiB/s after 10 s, within 5 minutes. 64 KiB/s (512 kbit/s)
// is below any broadband or mobile uplink, so an honest client is not cut
// off, yet holding a body's share of the body budget now costs its sender
// 64 KiB/s for as long as it holds it, not a byte every few seconds: a
// key's 128 MiB share, held as four 32 MiB bodies, costs 256 KiB/s. 10 s
// covers a slow start (TLS, TCP slow start, a 100-continue round trip) and
// lets any body up to 640 KiB, every console form and JSON body, arrive at
// any pace. 5 minutes was the server's read timeout before: the bound of a
// bank import.
var Default = Rate{Min: 64 << 10, Grace: 10 * time.Second, Whole: 5 * time.Minute}

// Handler serves h with every request body held to r. Requests without a
// body pass as they are: a deadline on them would only end the idle read
// net/http keeps to notice a client leaving, cancelling their context.
func (r Rate) Handler(h http.Handler) http.Handler {
	if r.Min <= 0 && r.Whole <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Body == nil || req.Body == http.NoBody {
			h.ServeHTTP(w, req)
			return
		}
		b := &body{ReadCloser: req.Body, rc: http.NewResponseController(w), rate: r}
		req = req.WithContext(context.WithValue(req.Context(), bodyKey{}, b)) // a copy, whose Body is ours to set
		if r.Whole > 0 {
			b.whole = time.Now().Add(r.Whole)
		}
		req.Body = b
		h.ServeHTTP(w, req)
		b.unread()
	})
}

type bodyKey struct{}

// Cut returns the *Error of the request of ctx if its body was cut off,
// else nil. The failed read cancels the request's context (net/http ends a
// request whose connection's read fails), so work in flight when the body
// stopped, a streamed import's transaction say, fails as cancelled: an
// entry point answers Cut's error first, whatever its handler returned.
func Cut(ctx context.Context) *Error {
	if b, ok := ctx.Value(bodyKey{}).(*body); ok {
		return b.err.Load()
	}
	return nil
}

// Refused says whether err is a body a server limit refused: over its
// size (http.MaxBytesError, 413) or under its rate (*Error, 408). Such an
// error passes as it is to the entry point's error answer; any other
// failure reading a body is the client's, 400.
func Refused(err error) bool {
	var mbe *http.MaxBytesError
	var slow *Error
	return errors.As(err, &mbe) || errors.As(err, &slow)
}

// Error is a body cut off for arriving too slowly: under Rate.Min after
// the grace, or not whole within Rate.Whole.
type Error struct {
	Rate  Rate
	Read  int64         // bytes that had arrived
	After time.Duration // since the body's first read
	Whole bool          // cut by Rate.Whole rather than the minimum rate
}

func (e *Error) Error() string {
	after := e.After.Round(100 * time.Millisecond)
	if e.Whole {
		return fmt.Sprintf("request body not complete within %v: %d bytes arrived", e.Rate.Whole, e.Read)
	}
	return fmt.Sprintf("request body too slow: %d bytes arrived in %v, under the minimum of %s after the first %v",
		e.Read, after, perSecond(e.Rate.Min), e.Rate.Grace)
}

// perSecond writes a rate in KiB/s when it is a whole number of them.
func perSecond(n int64) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB/s", n>>10)
	}
	return fmt.Sprintf("%d bytes/s", n)
}

// body is a request body whose connection's read deadline it moves: to
// first + Grace + read/Min, or whole if sooner.
type body struct {
	io.ReadCloser
	rc      *http.ResponseController // nil once the writer cannot set deadlines
	rate    Rate
	whole   time.Time // zero: no bound
	first   time.Time // of the first read
	read    int64
	atWhole bool                  // the deadline set is whole's
	ended   bool                  // a read failed or reached the end
	err     atomic.Pointer[Error] // once cut off; Cut may read it from another goroutine
}

func (b *body) Read(p []byte) (int, error) {
	if e := b.err.Load(); e != nil {
		return 0, e
	}
	if b.first.IsZero() {
		b.first = time.Now()
		if b.extend() != nil {
			b.rc = nil // a writer of tests, say: the body is read as it comes
		}
	}
	n, err := b.ReadCloser.Read(p)
	if b.rc == nil {
		return n, err
	}
	b.read += int64(n)
	b.ended = err != nil
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		e := &Error{Rate: b.rate, Read: b.read, After: time.Since(b.first), Whole: b.atWhole}
		b.err.Store(e)
		return n, e
	case err != nil:
		// Not moved at the end: net/http has just cleared the deadline for
		// its read that watches for the client leaving, which one of ours
		// would end, cancelling the request's context as the handler works.
	case n > 0:
		b.extend()
	}
	return n, err
}

// unread holds to the rate what net/http reads of a body after its handler
// returns (up to 256 KB, to answer on a connection it can keep): without
// a deadline of ours, a handler that answered without reading would leave
// that read the listener's whole read timeout. A body the handler read to
// its end is left alone: its deadline is net/http's again.
func (b *body) unread() {
	if b.ended || b.rc == nil {
		return
	}
	if b.first.IsZero() {
		b.first = time.Now()
	}
	b.extend()
}

// extend sets the deadline for the bytes read so far.
func (b *body) extend() error {
	d, atWhole := b.whole, true
	if b.rate.Min > 0 {
		secs, part := b.read/b.rate.Min, b.read%b.rate.Min
		rated := b.first.Add(b.rate.Grace + time.Duration(secs)*time.Second + time.Duration(part)*time.Second/time.Duration(b.rate.Min))
		if b.whole.IsZero() || rated.Before(b.whole) {
			d, atWhole = rated, false
		}
	}
	if atWhole && b.atWhole {
		return nil // set already
	}
	b.atWhole = atWhole
	return b.rc.SetReadDeadline(d)
}
