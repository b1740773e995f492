package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ scan.Store = (*Store)(nil)

const scanCols = `id, time, kind, actor, content_id, account_id, surface, visibility,
	pdq, quality, low_quality, md5, sha256, matches, decision, evidence, evidence_error`

const insertScan = `INSERT INTO scans (` + scanCols + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (id) DO NOTHING`

// RecordScan implements scan.Store; the insert commits before it returns.
//
// Scans recorded while others commit are committed together, in one
// transaction of one round trip: each commit waits for PostgreSQL's WAL
// flush, which cost a scan more CPU, in the server's backends, than the
// insert. There is no timer: a batch is what arrived during the previous
// commit, so the wait is at most one commit, and a scan alone is written
// at once. Every caller is answered only after its own batch committed.
func (s *Store) RecordScan(ctx context.Context, rec scan.Record) error {
	if s.scans == nil { // in a view of Atomically: its transaction
		return s.insertScans(ctx, s.db, []scan.Record{rec})[0]
	}
	p := &pendingScan{rec: rec, done: make(chan error, 1)}
	b := s.scans
	b.mu.Lock()
	b.pending = append(b.pending, p)
	lead := !b.busy
	b.busy = true
	b.mu.Unlock()
	if lead {
		go s.commitScans()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// Not answered, so not acknowledged: the platform retries.
		return fmt.Errorf("recording scan %s: %w", rec.ID, ctx.Err())
	}
}

// maxScanBatch bounds the records of one transaction.
const maxScanBatch = 128

// scanBatchTimeout bounds one batch's commit: the callers' own contexts are
// not its to honour, since it commits for all of them.
const scanBatchTimeout = time.Minute

type scanBatch struct {
	mu      sync.Mutex
	pending []*pendingScan
	busy    bool // a commitScans is running
}

type pendingScan struct {
	rec  scan.Record
	done chan error // buffered: the committer never waits for a caller
}

// commitScans commits pending records, batch after batch, until none are
// left.
func (s *Store) commitScans() {
	b := s.scans
	for {
		b.mu.Lock()
		batch := b.pending[:min(len(b.pending), maxScanBatch)]
		b.pending = b.pending[len(batch):]
		if len(batch) == 0 {
			b.pending = nil // let the drained array go
			b.busy = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		recs := make([]scan.Record, len(batch))
		for i, p := range batch {
			recs[i] = p.rec
		}
		ctx, cancel := context.WithTimeout(context.Background(), scanBatchTimeout)
		errs := s.insertScans(ctx, s.pool, recs)
		cancel()
		for i, p := range batch {
			p.done <- errs[i]
		}
	}
}

// insertScans inserts recs in one transaction and returns each one's
// error. When the transaction fails as a whole and holds more than one
// record, each is tried again alone, so one bad record fails only itself.
func (s *Store) insertScans(ctx context.Context, db conn, recs []scan.Record) []error {
	errs := make([]error, len(recs))
	done := func(i int, tag pgconn.CommandTag, err error) {
		switch {
		case err != nil:
			errs[i] = fmt.Errorf("recording scan %s: %w", recs[i].ID, err)
		case tag.RowsAffected() == 0:
			errs[i] = fmt.Errorf("scan %s: %w", recs[i].ID, store.ErrExists)
		}
	}
	args := func(rec scan.Record) []any {
		return []any{rec.ID, stored(rec.Time), rec.Kind, rec.Actor, rec.ContentID, rec.AccountID, rec.Surface, rec.Visibility,
			rec.PDQ, rec.Quality, rec.LowQuality, rec.MD5, rec.SHA256, rec.Matches, rec.Decision, rec.Evidence, rec.EvidenceError}
	}
	if len(recs) == 1 {
		tag, err := db.Exec(ctx, insertScan, args(recs[0])...)
		done(0, tag, err)
		return errs
	}
	// A batch runs in one implicit transaction, committed when its results
	// are all read (Close): one round trip and one WAL flush for all.
	var batch pgx.Batch
	for _, rec := range recs {
		batch.Queue(insertScan, args(rec)...)
	}
	br := db.SendBatch(ctx, &batch)
	tags := make([]pgconn.CommandTag, len(recs))
	var err error
	for i := range recs {
		if tags[i], err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		for i := range recs {
			errs[i] = s.insertScans(ctx, db, recs[i:i+1])[0]
		}
		return errs
	}
	for i := range recs {
		done(i, tags[i], nil)
	}
	return errs
}

// ScanRecord implements scan.Store.
func (s *Store) ScanRecord(ctx context.Context, id string) (scan.Record, error) {
	var rec scan.Record
	err := s.db.QueryRow(ctx, `SELECT `+scanCols+` FROM scans WHERE id = $1`, id).Scan(
		&rec.ID, &rec.Time, &rec.Kind, &rec.Actor, &rec.ContentID, &rec.AccountID, &rec.Surface, &rec.Visibility,
		&rec.PDQ, &rec.Quality, &rec.LowQuality, &rec.MD5, &rec.SHA256, &rec.Matches, &rec.Decision, &rec.Evidence, &rec.EvidenceError)
	if errors.Is(err, pgx.ErrNoRows) {
		return scan.Record{}, fmt.Errorf("scan %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return scan.Record{}, fmt.Errorf("reading scan %s: %w", id, err)
	}
	rec.Time = rec.Time.UTC()
	return rec, nil
}
