// Package list pulls a hash list that a hotline publishes as a file or at
// a URL: one "signal_type signal" a line (python-threatexchange's file
// exchange), or python-threatexchange's dataset CSV (bank.HMA) or our own
// CSV (bank.CSV).
//
// A list is a snapshot: each fetch reads it whole and the bank is made to
// hold exactly it, so lines dropped upstream are removed here. An unchanged
// list (by its SHA-256) changes nothing.
package list

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// DefaultMaxBytes bounds a list: about 700,000 lines of PDQ.
const DefaultMaxBytes = 64 << 20

// Fetcher is the exchange.Fetcher of a list.
type Fetcher struct {
	// URL or Path says where the list is; exactly one is set.
	URL, Path string
	// Format is bank.HMA, bank.CSV or "" for lines of "signal_type signal"
	// (or only the signal when SignalType is set).
	Format     bank.Format
	SignalType string
	MaxBytes   int64
	HTTP       *exchange.HTTP

	auth string // the Authorization header of a URL list, if any
}

// Config builds a Fetcher from an exchange's configuration: setting "url"
// (https, or http to loopback) or "path"; "format" (lines, hma or csv;
// default: detected from the first line); "signal_type" for a list of bare
// values; "max_bytes". A URL list may need credential "authorization", sent
// as the Authorization header.
func Config(cfg exchange.Config, h *exchange.HTTP) (*Fetcher, error) {
	if err := cfg.Only([]string{"url", "path", "format", "signal_type", "max_bytes"}, []string{"authorization"}); err != nil {
		return nil, err
	}
	f := &Fetcher{URL: cfg.Setting("url", ""), Path: cfg.Setting("path", ""), SignalType: cfg.Setting("signal_type", ""), MaxBytes: DefaultMaxBytes}
	if (f.URL == "") == (f.Path == "") {
		return nil, fmt.Errorf("exchange %q: set url or path, one of them", cfg.Name)
	}
	if f.URL != "" {
		if _, err := exchange.CheckURL(f.URL); err != nil {
			return nil, fmt.Errorf("exchange %q: %w", cfg.Name, err)
		}
	}
	switch v := cfg.Setting("format", ""); v {
	case "", "lines":
	case "hma", "csv":
		f.Format = bank.Format(v)
	default:
		return nil, fmt.Errorf("exchange %q: format %q: want lines, hma or csv", cfg.Name, exchange.Clip(v))
	}
	if f.SignalType != "" && f.Format != "" {
		return nil, fmt.Errorf("exchange %q: signal_type is for lists of lines, not %s", cfg.Name, f.Format)
	}
	if v := cfg.Setting("max_bytes", ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 1<<30 {
			return nil, fmt.Errorf("exchange %q: max_bytes %q: want 1 to %d", cfg.Name, exchange.Clip(v), 1<<30)
		}
		f.MaxBytes = n
	}
	if h == nil {
		h = &exchange.HTTP{}
	}
	c := *h
	c.MaxBody = f.MaxBytes
	f.HTTP = &c
	f.auth = cfg.Credentials["authorization"]
	return f, nil
}

// Fetch implements exchange.Fetcher. The position is the list's SHA-256.
func (f *Fetcher) Fetch(ctx context.Context, from exchange.Checkpoint, emit func(exchange.Page) error) error {
	data, err := f.read(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	if digest == from.Position {
		return nil // unchanged since the last fetch
	}
	p, err := Parse(data, f.Format, f.SignalType)
	if err != nil {
		return fmt.Errorf("%s: %w", f.where(), err)
	}
	p.Checkpoint = exchange.Checkpoint{Position: digest}
	return emit(p)
}

func (f *Fetcher) where() string {
	if f.Path != "" {
		return f.Path
	}
	return f.URL
}

func (f *Fetcher) read(ctx context.Context) ([]byte, error) {
	if f.Path != "" {
		file, err := os.Open(f.Path)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		data, err := io.ReadAll(io.LimitReader(file, f.MaxBytes+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		if int64(len(data)) > f.MaxBytes {
			return nil, &exchange.PermanentError{Err: fmt.Errorf("%s: longer than max_bytes %d", f.Path, f.MaxBytes)}
		}
		return data, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return nil, err
	}
	if f.auth != "" {
		req.Header.Set("Authorization", f.auth)
	}
	return f.HTTP.Do(ctx, req)
}

// Parse reads a whole list into one complete page. A CSV (format hma or
// csv) is read by bank.Read and must be valid throughout: its first bad
// line fails the list, naming the line, because applying part of a
// snapshot would remove what the rest holds. A list of lines skips and
// counts a bad line, and carries signal types a bank cannot hold.
func Parse(data []byte, format bank.Format, signalType string) (exchange.Page, error) {
	p := exchange.Page{Complete: true}
	if format == "" && signalType == "" {
		if f := bank.DetectFormat(data); f != bank.Text {
			format = f
		}
	}
	if format != "" {
		for e, err := range bank.Read(bytes.NewReader(data), "", format) {
			if err != nil {
				return p, err
			}
			p.Records = append(p.Records, exchange.Record{ID: string(e.Signal) + ":" + e.Value, Classification: e.Category, Note: e.Note,
				Fingerprints: []exchange.Fingerprint{{Kind: exchange.Kind(e.Signal), Value: e.Value}}})
		}
		return p, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, bank.MaxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, value := signalType, line
		if name == "" {
			var ok bool
			if name, value, ok = strings.Cut(line, " "); !ok {
				p.Skip("line %d: want \"signal_type signal\"", n)
				continue
			}
		}
		value = strings.TrimSpace(value)
		if value == "" {
			p.Skip("line %d: no signal after %q", n, exchange.Clip(name))
			continue
		}
		k, err := kindOf(name)
		if err != nil {
			p.Skip("line %d: %v", n, err)
			continue
		}
		p.Records = append(p.Records, exchange.Record{ID: string(k) + ":" + value, Fingerprints: []exchange.Fingerprint{{Kind: k, Value: value}}})
	}
	if err := sc.Err(); err != nil {
		return p, fmt.Errorf("after %d records: %w", len(p.Records), err)
	}
	if len(p.Records) == 0 {
		return p, bank.ErrNoEntries
	}
	return p, nil
}

// kindOf maps python-threatexchange's signal type names to kinds; a name
// it does not know is carried as it is, if it looks like a name.
func kindOf(name string) (exchange.Kind, error) {
	if s, err := bank.ParseSignal(name); err == nil {
		return exchange.Kind(s), nil
	}
	n := strings.ToLower(name)
	switch n {
	case "vpdq":
		return exchange.VPDQ, nil
	case "tmk":
		return exchange.TMK, nil
	}
	if len(n) > 32 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return "", fmt.Errorf("%q is not a signal type", exchange.Clip(name))
	}
	return exchange.Kind(n), nil
}
