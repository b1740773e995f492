package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
)

// WriteJSONLines writes entries to w as JSON, one per line: the form the log
// leaves the service in, for an auditor to verify offline (ReadJSONLines,
// or any language, see docs/audit.md). It returns how many it wrote.
func WriteJSONLines(w io.Writer, entries iter.Seq2[Entry, error]) (int64, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	// A detail is written as it is stored, byte for byte, since its hash
	// covers those bytes: HTML escaping would turn a detail read from
	// another writer's `{"&":0}` into `{"\u0026":0}` and break its hash.
	enc.SetEscapeHTML(false)
	var n int64
	for e, err := range entries {
		if err != nil {
			return n, fmt.Errorf("audit: export after entry %d: %w", n, err)
		}
		if err := enc.Encode(e); err != nil {
			return n, fmt.Errorf("audit: export entry %d: %w", e.Seq, err)
		}
		n++
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	return n, nil
}

// maxLine bounds a line of an export: an entry's detail, escaped, and its
// other fields fit with room to spare.
const maxLine = 8*MaxDetail + 64<<10

// ReadJSONLines reads entries in the form WriteJSONLines writes, stopping at
// the first line that is not one entry (unknown fields included, so a
// changed format is noticed rather than silently dropped). Blank lines are
// skipped.
func ReadJSONLines(r io.Reader) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine)
		line := 0
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			e, err := decodeLine(b)
			if err != nil {
				yield(Entry{}, fmt.Errorf("audit: line %d: %w", line, err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("longer than %d bytes", maxLine)
			}
			yield(Entry{}, fmt.Errorf("audit: line %d: %w", line+1, err))
		}
	}
}

func decodeLine(b []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, err
	}
	if dec.More() {
		return Entry{}, errors.New("more than one JSON value")
	}
	// The encoder compacts a detail on the way out, so one with spaces
	// could not be written back with the hash it came with.
	if len(e.Detail) > 0 {
		var c bytes.Buffer
		if err := json.Compact(&c, e.Detail); err != nil || !bytes.Equal(c.Bytes(), e.Detail) {
			return Entry{}, fmt.Errorf("entry %d: detail is not compact JSON (an export never has spaces between its tokens)", e.Seq)
		}
	}
	return e, nil
}
