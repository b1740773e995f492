package api

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bodyrate"
)

// admitBody takes, from the body budget (Config.BodyBudget), the memory a
// request's content will hold once read, before a byte of it is read: 24
// uploads of 30 MB at once then wait their turn (their senders held back
// by TCP) instead of costing 720 MB together. The amount is the declared
// Content-Length, or the whole limit when none is declared. The body
// budget is apart from the decode budget: a request holding its body and
// waiting for a decode must not starve the decodes of others' bodies.
// A key has at most half the budget at once (media.Budget.AcquireShare):
// past that its request is refused 429, so that its slow uploads cannot
// keep everyone else's waiting.
func (a *API) admitBody(r *http.Request, k auth.Key, limit int64) (release func(), err error) {
	if a.cfg.BodyBudget == nil {
		return func() {}, nil
	}
	n := r.ContentLength
	if n <= 0 || n > limit {
		n = limit
	}
	return a.cfg.BodyBudget.AcquireShare(r.Context(), "key "+k.ID, "request body", min(n, a.cfg.BodyBudget.Total()))
}

// bodyError is a failure reading a request body (what says where: "reading
// the body", "multipart form"): over the body limit (the MaxBytesError,
// 413) or under the minimum rate (the *bodyrate.Error, 408), which pass as
// they are for toError, or cut short or malformed, which is the client's.
func bodyError(what string, err error) error {
	if bodyrate.Refused(err) {
		return err
	}
	return errorf(http.StatusBadRequest, CodeBadRequest, "%s: %v", what, err)
}

// Content bodies are read into buffers kept for reuse, so that a scan of a
// typical image costs no allocation for its bytes and no copies as a
// growing buffer doubles: a 40 KB JPEG read by bytes.Buffer from nothing
// was 8 allocations and 80 KB copied.
const (
	firstBody  = 64 << 10 // a new buffer's capacity: most images fit
	pooledBody = 1 << 20  // buffers larger than this are left to the GC
)

var bodyPool sync.Pool // of *[]byte, length 0

// bodyBuffer returns an empty buffer to read content into; recycleBody
// gives it back.
func bodyBuffer() []byte {
	if b, ok := bodyPool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 0, firstBody)
}

// recycleBody gives back the buffer of content read by readUpload or
// readContent, once nothing holds its bytes. Any other slice, or nil, is
// fine too: only buffers of a pooled size are kept.
func recycleBody(b []byte) {
	if cap(b) < firstBody || cap(b) > pooledBody {
		return
	}
	b = b[:0]
	bodyPool.Put(&b)
}

// readAppend appends r's bytes to b until r ends, reading at most limit
// bytes in all (len(b) counted) and one more to tell a body over the limit.
// It returns the bytes and whether the limit was passed.
func readAppend(b []byte, r io.Reader, limit int64) ([]byte, bool, error) {
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > limit {
				return b, true, nil
			}
			// Double, but never past limit+1: a 30 MB body costs 30 MB.
			b = slices.Grow(b, int(min(int64(max(cap(b), 512)), limit+1-int64(len(b)))))
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return b, true, nil
		}
		if errors.Is(err, io.EOF) {
			return b, false, nil
		}
		if err != nil {
			return b, false, err
		}
	}
}
