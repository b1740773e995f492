package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
)

const entryCols = `id, bank_id, signal, value, source, external_id, category, added_at, added_by, note`

func scanEntry(row interface{ Scan(...any) error }, extra ...any) (bank.Entry, error) {
	var e bank.Entry
	var value []byte
	var added int64
	dest := append([]any{&e.ID, &e.BankID, &e.Signal, &value, &e.Source, &e.ExternalID, &e.Category, &added, &e.AddedBy, &e.Note}, extra...)
	if err := row.Scan(dest...); err != nil {
		return e, err
	}
	e.Value = bank.EncodeValue(value)
	e.AddedAt = fromMicros(added)
	return e, nil
}

// insertBatch is how many entries one INSERT statement adds: one statement
// per row costs a driver round trip each, and SQLite allows 32766
// parameters per statement.
const insertBatch = 256

// progressEvery is about how many entries pass between calls of the
// progress function.
const progressEvery = 10_000

const insertRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// pageCache is every connection's page cache (64 MiB, as Open sets it);
// importCache is an import's, 1 GiB: enough for the random-key indexes of
// about 12 M entries (docs/benchmarks.md, "Import at 10 M").
const (
	pageCache   = `PRAGMA cache_size = -65536`
	importCache = `PRAGMA cache_size = -1048576`
)

func insertSQL(rows int) string {
	return `INSERT INTO entries (bank_id, signal, value, source, external_id, category, added_at, added_by, note, seq) VALUES ` +
		strings.Repeat(insertRow+",", rows-1) + insertRow +
		// Without a target, DO NOTHING covers the partial unique index of
		// live entries: a value already live counts as existing.
		` ON CONFLICT DO NOTHING`
}

// AddEntries implements bank.Store.
func (s *Store) AddEntries(ctx context.Context, bankName string, entries iter.Seq2[bank.Entry, error], progress func(n int64)) (bank.ImportResult, error) {
	var res bank.ImportResult
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		res = bank.ImportResult{}
		bankID, err := liveBankID(ctx, tx, bankName)
		if err != nil {
			return err
		}
		// Each entry goes into two indexes of random keys (entries_live,
		// entries_source); once they outgrow the page cache, every insert
		// reads a page back and spills a dirty one into the WAL, so the
		// time an entry took doubled from 1 M to 3 M entries. The import's
		// connection gets a larger cache while it runs (pages are taken
		// only as used; the smaller size frees them once committed).
		if _, err := tx.ExecContext(ctx, importCache); err != nil {
			return err
		}
		defer tx.ExecContext(context.WithoutCancel(ctx), pageCache)
		full, err := tx.PrepareContext(ctx, insertSQL(insertBatch))
		if err != nil {
			return err
		}
		defer full.Close()
		now := micros(time.Now())
		args := make([]any, 0, insertBatch*10)
		var read, reported int64
		flush := func() error {
			rows := int64(len(args) / 10)
			if rows == 0 {
				return nil
			}
			first, err := nextSeqs(ctx, tx, rows)
			if err != nil {
				return err
			}
			for i := range rows {
				args[i*10+9] = first + i
			}
			var r sql.Result
			if rows == insertBatch {
				r, err = full.ExecContext(ctx, args...)
			} else {
				r, err = tx.ExecContext(ctx, insertSQL(int(rows)), args...)
			}
			if err != nil {
				return err
			}
			added, err := r.RowsAffected()
			if err != nil {
				return err
			}
			res.Added += added
			res.Existing += rows - added
			args = args[:0]
			if progress != nil && read-reported >= progressEvery {
				progress(read)
				reported = read
			}
			return nil
		}
		for e, err := range entries {
			if err != nil {
				return err
			}
			read++
			if e, err = e.Normalize(); err != nil {
				return &bank.LineError{Line: int(read), Err: err}
			}
			value, _ := bank.DecodeValue(e.Value) // Normalize checked it
			added := now
			if !e.AddedAt.IsZero() {
				added = micros(e.AddedAt)
			}
			args = append(args, bankID, string(e.Signal), value, e.Source, e.ExternalID, e.Category, added, e.AddedBy, e.Note, nil)
			if len(args) == cap(args) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		if progress != nil {
			progress(read)
		}
		_, err = tx.ExecContext(ctx, `UPDATE banks SET live_entries = live_entries + ? WHERE id = ?`, res.Added, bankID)
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
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		bankID, err := liveBankID(ctx, tx, bankName)
		if err != nil {
			return err
		}
		seq, err := nextSeqs(ctx, tx, 1)
		if err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `UPDATE entries SET removed = 1, seq = ? WHERE bank_id = ? AND signal = ? AND value = ? AND removed = 0`,
			seq, bankID, string(sig), raw)
		if err != nil {
			return fmt.Errorf("removing %s %s from bank %q: %w", sig, v, bankName, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("%s %s in bank %q: %w", sig, v, bankName, bank.ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `UPDATE banks SET live_entries = live_entries - 1 WHERE id = ?`, bankID)
		return err
	})
}

// Entry implements bank.Store.
func (s *Store) Entry(ctx context.Context, id int64) (bank.Entry, error) {
	e, err := scanEntry(s.r().QueryRowContext(ctx, `SELECT `+entryCols+` FROM entries WHERE id = ? AND removed = 0`, id))
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
	e, err := scanEntry(s.r().QueryRowContext(ctx, `SELECT `+entryCols+` FROM entries
		WHERE bank_id = (SELECT id FROM banks WHERE name = ? AND deleted_at IS NULL) AND signal = ? AND value = ? AND removed = 0`,
		bankName, string(sig), raw))
	if err != nil {
		return bank.Entry{}, notFound(err, "%s %s in bank %q", sig, v, bankName)
	}
	return e, nil
}

// entriesPage is how many entries Entries reads per query.
const entriesPage = 2000

// Entries implements bank.Store.
func (s *Store) Entries(ctx context.Context, bankName string) iter.Seq2[bank.Entry, error] {
	return func(yield func(bank.Entry, error) bool) {
		bankID, err := liveBankID(ctx, s.r(), bankName)
		if err != nil {
			yield(bank.Entry{}, err)
			return
		}
		page := make([]bank.Entry, 0, entriesPage)
		for after := int64(0); ; {
			page, err = s.entriesPage(ctx, bankID, after, page[:0])
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

func (s *Store) entriesPage(ctx context.Context, bankID, after int64, page []bank.Entry) ([]bank.Entry, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+entryCols+` FROM entries WHERE bank_id = ? AND removed = 0 AND id > ? ORDER BY id LIMIT ?`,
		bankID, after, entriesPage)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return page, err
		}
		page = append(page, e)
	}
	return page, rows.Err()
}

// Changes implements bank.Store.
func (s *Store) Changes(ctx context.Context, since int64, limit int) ([]bank.Change, error) {
	return s.changes(ctx, since, limit, `SELECT `+entryCols+`, removed, seq FROM entries WHERE seq > ? ORDER BY seq LIMIT ?`,
		func(rows *sql.Rows, c *bank.Change) (err error) {
			c.Entry, err = scanEntry(rows, &c.Removed, &c.Seq)
			return err
		})
}

// BankChanges implements exchange.Store (index entries_bank_seq).
func (s *Store) BankChanges(ctx context.Context, bankName string, after int64, limit int) ([]bank.Change, error) {
	return s.changes(ctx, after, limit, `SELECT `+entryCols+`, removed, seq FROM entries
		WHERE seq > ?1 AND bank_id IN (SELECT id FROM banks WHERE name = ?3) ORDER BY seq LIMIT ?2`,
		func(rows *sql.Rows, c *bank.Change) (err error) {
			c.Entry, err = scanEntry(rows, &c.Removed, &c.Seq)
			return err
		}, bankName)
}

// ChangeKeys implements bank.Store.
func (s *Store) ChangeKeys(ctx context.Context, since int64, limit int) ([]bank.Change, error) {
	return s.changes(ctx, since, limit, `SELECT id, bank_id, signal, value, removed, seq FROM entries WHERE seq > ? ORDER BY seq LIMIT ?`,
		func(rows *sql.Rows, c *bank.Change) error {
			var value []byte
			if err := rows.Scan(&c.Entry.ID, &c.Entry.BankID, &c.Entry.Signal, &value, &c.Removed, &c.Seq); err != nil {
				return err
			}
			c.Entry.Value = bank.EncodeValue(value)
			return nil
		})
}

// changes runs a change-feed query whose parameters are since, limit,
// then args.
func (s *Store) changes(ctx context.Context, since int64, limit int, query string, scan func(*sql.Rows, *bank.Change) error, args ...any) ([]bank.Change, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("changes: limit %d, want a positive number", limit)
	}
	rows, err := s.r().QueryContext(ctx, query, append([]any{since, limit}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("changes since %d: %w", since, err)
	}
	defer rows.Close()
	var cs []bank.Change
	for rows.Next() {
		var c bank.Change
		if err := scan(rows, &c); err != nil {
			return nil, fmt.Errorf("changes since %d: %w", since, err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("changes since %d: %w", since, err)
	}
	return cs, nil
}
