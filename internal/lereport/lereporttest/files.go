package lereporttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing/iotest"

	"github.com/safeguard-oss/safeguard/internal/lereport"
)

// Files is a lereport.Files over content a test gives, as bytes or as a
// reader (evidencetest.Content, for an item too large to hold), safe for
// concurrent use. It counts each item's opens and the readers not yet
// closed, so a test sees a sender open an item again for a retry and
// close what it opened.
type Files struct {
	mu       sync.Mutex
	items    map[string]*io.SectionReader
	broken   map[string]error
	opens    map[string]int
	unclosed int
}

var _ lereport.Files = (*Files)(nil)

// NewFiles returns Files holding content, by evidence id.
func NewFiles(content map[string][]byte) *Files {
	f := &Files{items: map[string]*io.SectionReader{}, broken: map[string]error{}, opens: map[string]int{}}
	for id, b := range content {
		f.Add(id, bytes.NewReader(b), int64(len(b)))
	}
	return f
}

// Add adds item id, the size bytes of content.
func (f *Files) Add(id string, content io.ReaderAt, size int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[id] = io.NewSectionReader(content, 0, size)
}

// Break makes item id's reader fail with err once it has yielded half of
// it, as the evidence store's does where a file is not the item kept.
func (f *Files) Break(id string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.broken[id] = err
}

// Opens is how often item id was opened.
func (f *Files) Opens(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opens[id]
}

// Unclosed is how many readers were opened and not closed.
func (f *Files) Unclosed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unclosed
}

func (f *Files) File(_ context.Context, id string) (io.ReadCloser, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	item, ok := f.items[id]
	if !ok {
		return nil, 0, fmt.Errorf("evidence %s not found", id)
	}
	f.opens[id]++
	f.unclosed++
	var r io.Reader = io.NewSectionReader(item, 0, item.Size())
	if err := f.broken[id]; err != nil {
		r = io.MultiReader(io.LimitReader(r, item.Size()/2), iotest.ErrReader(err))
	}
	return &reader{Reader: r, f: f}, item.Size(), nil
}

type reader struct {
	io.Reader
	f      *Files
	closed bool
}

func (r *reader) Close() error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.f.unclosed--
	}
	return nil
}
