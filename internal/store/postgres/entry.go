package postgres

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
)

const entryCols = `id, bank_id, signal, value, source, external_id, category, added_at, added_by, note`

func scanEntry(row pgx.Row, extra ...any) (bank.Entry, error) {
	var e bank.Entry
	var value []byte
	dest := append([]any{&e.ID, &e.BankID, &e.Signal, &value, &e.Source, &e.ExternalID, &e.Category, &e.AddedAt, &e.AddedBy, &e.Note}, extra...)
	if err := row.Scan(dest...); err != nil {
		return e, err
	}
	e.Value = bank.EncodeValue(value)
	e.AddedAt = e.AddedAt.UTC()
	return e, nil
}

// progressEvery is how many entries pass between calls of the progress
// function.
const progressEvery = 10_000

// importChunk is how many entries go through the temporary table at a
// time: a chunk fits PostgreSQL's default temp_buffers (8 MB), so the table
// never spills to disk.
const importChunk = 40_000

// copySource feeds an entry iterator to COPY, checking each entry, a chunk
// at a time.
type copySource struct {
	next     func() (bank.Entry, error, bool)
	now      time.Time
	progress func(int64)
	n        int64 // entries read
	left     int   // entries until the end of this chunk
	done     bool  // the iterator has ended
	row      []any
	err      error
}

func (c *copySource) Next() bool {
	if c.left == 0 {
		return false
	}
	e, err, ok := c.next()
	if !ok {
		c.done = true
		return false
	}
	c.left--
	if err != nil {
		c.err = err
		return false
	}
	c.n++
	if e, err = e.Normalize(); err != nil {
		c.err = &bank.LineError{Line: int(c.n), Err: err}
		return false
	}
	value, _ := bank.DecodeValue(e.Value) // Normalize checked it
	added := c.now
	if !e.AddedAt.IsZero() {
		added = stored(e.AddedAt)
	}
	c.row = append(c.row[:0], c.n, string(e.Signal), value, e.Source, e.ExternalID, e.Category, added, e.AddedBy, e.Note)
	if c.progress != nil && c.n%progressEvery == 0 {
		c.progress(c.n)
	}
	return true
}

func (c *copySource) Values() ([]any, error) { return c.row, nil }
func (c *copySource) Err() error             { return c.err }

var importCols = []string{"ord", "signal", "value", "source", "external_id", "category", "added_at", "added_by", "note"}

// AddEntries implements bank.Store.
func (s *Store) AddEntries(ctx context.Context, bankName string, entries iter.Seq2[bank.Entry, error], progress func(n int64)) (bank.ImportResult, error) {
	var res bank.ImportResult
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		last, err := lockSeq(ctx, tx)
		if err != nil {
			return err
		}
		bankID, err := liveBankID(ctx, tx, bankName)
		if err != nil {
			return err
		}
		// Sorting a chunk by ord must not spill to disk (default 4 MB).
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '32MB'`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE import_entries (
			ord bigint, signal text, value bytea, source text, external_id text,
			category text, added_at timestamptz, added_by text, note text
		) ON COMMIT DROP`); err != nil {
			return err
		}
		next, stop := iter.Pull2(entries)
		defer stop()
		src := &copySource{next: next, now: stored(time.Now()), progress: progress}
		res = bank.ImportResult{}
		for !src.done {
			src.left = importChunk
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"import_entries"}, importCols, src)
			if src.err != nil {
				return src.err // the iterator's own error, not COPY's report of it
			}
			if err != nil {
				return err
			}
			// ORDER BY keeps the file's order in the entry IDs; ord numbers
			// the changes, leaving gaps where entries already existed.
			tag, err := tx.Exec(ctx, `INSERT INTO entries (bank_id, signal, value, source, external_id, category, added_at, added_by, note, seq)
				SELECT $1, signal, value, source, external_id, category, added_at, added_by, note, $2 + ord
				FROM import_entries ORDER BY ord
				ON CONFLICT (bank_id, signal, sha256(value)) WHERE NOT removed DO NOTHING`, bankID, last)
			if err != nil {
				return err
			}
			res.Added += tag.RowsAffected()
			res.Existing += n - tag.RowsAffected()
			if _, err := tx.Exec(ctx, `TRUNCATE import_entries`); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(src.n)
		}
		if err := setSeq(ctx, tx, last+src.n); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE banks SET live_entries = live_entries + $1 WHERE id = $2`, res.Added, bankID)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			// Drivers report a cancellation as whatever broke first (for
			// pgx, often the closed connection); say what happened.
			err = ctx.Err()
		}
		return bank.ImportResult{}, fmt.Errorf("importing into bank %q: %w", bankName, err)
	}
	return res, nil
}

// RemoveEntry implements bank.Store.
func (s *Store) RemoveEntry(ctx context.Context, bankName string, sig bank.Signal, value string) error {
	v, err := bank.ParseValue(sig, value)
	if err != nil {
		return err
	}
	raw, _ := bank.DecodeValue(v)
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		last, err := lockSeq(ctx, tx)
		if err != nil {
			return err
		}
		bankID, err := liveBankID(ctx, tx, bankName)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE entries SET removed = true, seq = $1 WHERE bank_id = $2 AND signal = $3 AND sha256(value) = sha256($4) AND value = $4 AND NOT removed`,
			last+1, bankID, string(sig), raw)
		if err != nil {
			return fmt.Errorf("removing %s %s from bank %q: %w", sig, v, bankName, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%s %s in bank %q: %w", sig, v, bankName, bank.ErrNotFound)
		}
		if err := setSeq(ctx, tx, last+1); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE banks SET live_entries = live_entries - 1 WHERE id = $1`, bankID)
		return err
	})
}

// Entry implements bank.Store.
func (s *Store) Entry(ctx context.Context, id int64) (bank.Entry, error) {
	e, err := scanEntry(s.db.QueryRow(ctx, `SELECT `+entryCols+` FROM entries WHERE id = $1 AND NOT removed`, id))
	if err != nil {
		return bank.Entry{}, notFound(err, "entry %d", id)
	}
	return e, nil
}

// LiveEntry implements bank.Store.
func (s *Store) LiveEntry(ctx context.Context, bankName string, sig bank.Signal, value string) (bank.Entry, error) {
	v, err := bank.ParseValue(sig, value)
	if err != nil {
		return bank.Entry{}, derrors.Wrap(err, derrors.Invalid)
	}
	raw, _ := bank.DecodeValue(v)
	e, err := scanEntry(s.db.QueryRow(ctx, `SELECT `+entryCols+` FROM entries
		WHERE bank_id = (SELECT id FROM banks WHERE name = $1 AND deleted_at IS NULL) AND signal = $2 AND sha256(value) = sha256($3) AND value = $3 AND NOT removed`,
		bankName, string(sig), raw))
	if err != nil {
		return bank.Entry{}, notFound(err, "%s %s in bank %q", sig, v, bankName)
	}
	return e, nil
}

// entriesPage is how many entries Entries reads per query.
const entriesPage = 5000

// Entries implements bank.Store.
func (s *Store) Entries(ctx context.Context, bankName string) iter.Seq2[bank.Entry, error] {
	return func(yield func(bank.Entry, error) bool) {
		bankID, err := liveBankID(ctx, s.db, bankName)
		if err != nil {
			yield(bank.Entry{}, err)
			return
		}
		for after := int64(0); ; {
			rows, _ := s.db.Query(ctx, `SELECT `+entryCols+` FROM entries WHERE bank_id = $1 AND NOT removed AND id > $2 ORDER BY id LIMIT $3`,
				bankID, after, entriesPage)
			page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bank.Entry, error) { return scanEntry(r) })
			if err != nil {
				yield(bank.Entry{}, fmt.Errorf("reading bank %q: %w", bankName, err))
				return
			}
			for _, e := range page {
				if !yield(e, nil) {
					return
				}
			}
			if len(page) < entriesPage {
				return
			}
			after = page[len(page)-1].ID
		}
	}
}

// Changes implements bank.Store.
func (s *Store) Changes(ctx context.Context, since int64, limit int) ([]bank.Change, error) {
	return s.changes(ctx, since, limit, `SELECT `+entryCols+`, removed, seq FROM entries WHERE seq > $1 ORDER BY seq LIMIT $2`,
		func(r pgx.CollectableRow) (c bank.Change, err error) {
			c.Entry, err = scanEntry(r, &c.Removed, &c.Seq)
			return c, err
		})
}

// BankChanges implements exchange.Store (index entries_bank_seq).
func (s *Store) BankChanges(ctx context.Context, bankName string, after int64, limit int) ([]bank.Change, error) {
	return s.changes(ctx, after, limit, `SELECT `+entryCols+`, removed, seq FROM entries
		WHERE seq > $1 AND bank_id IN (SELECT id FROM banks WHERE name = $3) ORDER BY seq LIMIT $2`,
		func(r pgx.CollectableRow) (c bank.Change, err error) {
			c.Entry, err = scanEntry(r, &c.Removed, &c.Seq)
			return c, err
		}, bankName)
}

// ChangeKeys implements bank.Store.
func (s *Store) ChangeKeys(ctx context.Context, since int64, limit int) ([]bank.Change, error) {
	return s.changes(ctx, since, limit, `SELECT id, bank_id, signal, value, removed, seq FROM entries WHERE seq > $1 ORDER BY seq LIMIT $2`,
		func(r pgx.CollectableRow) (c bank.Change, err error) {
			var value []byte
			err = r.Scan(&c.Entry.ID, &c.Entry.BankID, &c.Entry.Signal, &value, &c.Removed, &c.Seq)
			c.Entry.Value = bank.EncodeValue(value)
			return c, err
		})
}

// changes runs a change-feed query whose parameters are since, limit,
// then args.
func (s *Store) changes(ctx context.Context, since int64, limit int, query string, scan pgx.RowToFunc[bank.Change], args ...any) ([]bank.Change, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("changes: limit %d, want a positive number", limit)
	}
	rows, _ := s.db.Query(ctx, query, append([]any{since, limit}, args...)...)
	cs, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("changes since %d: %w", since, err)
	}
	return cs, nil
}
