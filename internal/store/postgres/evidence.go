package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/evidence"
)

// chunkSize is the most bytes one row of evidence_chunks holds.
const chunkSize = 1 << 20

// fileTimeout bounds one evidence file operation: the evidence package's
// methods take no context.
const fileTimeout = 2 * time.Minute

// EvidenceFiles is evidence.Files in the database, for servers that share
// it: an item kept by one is read by every other.
type EvidenceFiles struct{ s *Store }

// EvidenceFiles returns the store's evidence.Files.
func (s *Store) EvidenceFiles() *EvidenceFiles { return &EvidenceFiles{s} }

var _ evidence.Files = (*EvidenceFiles)(nil)

// Write implements evidence.Files: the old chunks go and the new come in
// one transaction, read from r a chunk at a time.
func (f *EvidenceFiles) Write(name string, r io.Reader) error {
	ctx, cancel := context.WithTimeout(context.Background(), fileTimeout)
	defer cancel()
	return pgx.BeginFunc(ctx, f.s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM evidence_chunks WHERE name = $1`, name); err != nil {
			return err
		}
		buf := make([]byte, chunkSize)
		var size int64
		for n := 0; ; n++ {
			k, err := io.ReadFull(r, buf)
			if k > 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO evidence_chunks (name, chunk, data) VALUES ($1, $2, $3)`, name, n, buf[:k]); err != nil {
					return err
				}
				size += int64(k)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO evidence_files (name, size, written_at) VALUES ($1, $2, now())
			ON CONFLICT (name) DO UPDATE SET size = excluded.size, written_at = excluded.written_at`, name, size)
		return err
	})
}

// Open implements evidence.Files. One statement reads the file, so it
// sees one version of it; rows arrive as the reader takes them, so a
// large file is never held twice.
func (f *EvidenceFiles) Open(name string) (io.ReadCloser, evidence.FileInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fileTimeout)
	rows, err := f.s.db.Query(ctx, `SELECT f.size, f.written_at, c.data FROM evidence_files f
		LEFT JOIN evidence_chunks c ON c.name = f.name WHERE f.name = $1 ORDER BY c.chunk`, name)
	if err != nil {
		cancel()
		return nil, evidence.FileInfo{}, err
	}
	r := &chunkReader{rows: rows, cancel: cancel}
	if !r.next() {
		err := rows.Err()
		r.Close()
		if err == nil {
			err = fmt.Errorf("evidence file %s: %w", name, fs.ErrNotExist)
		}
		return nil, evidence.FileInfo{}, err
	}
	return r, r.info, nil
}

// chunkReader reads a file's chunks from its query's rows.
type chunkReader struct {
	rows   pgx.Rows
	cancel context.CancelFunc
	info   evidence.FileInfo
	chunk  []byte
}

func (r *chunkReader) next() bool {
	if !r.rows.Next() {
		return false
	}
	r.chunk = r.chunk[:0]
	if err := r.rows.Scan(&r.info.Size, &r.info.Written, &r.chunk); err != nil {
		return false
	}
	r.info.Written = r.info.Written.UTC()
	return true
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunk) == 0 {
		if !r.next() {
			if err := r.rows.Err(); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
	}
	n := copy(p, r.chunk)
	r.chunk = r.chunk[n:]
	return n, nil
}

func (r *chunkReader) Close() error {
	r.rows.Close()
	r.cancel()
	return nil
}

// Remove implements evidence.Files.
func (f *EvidenceFiles) Remove(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), fileTimeout)
	defer cancel()
	return pgx.BeginFunc(ctx, f.s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM evidence_chunks WHERE name = $1`, name); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM evidence_files WHERE name = $1`, name)
		return err
	})
}

// Names implements evidence.Files.
func (f *EvidenceFiles) Names() iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		ctx, cancel := context.WithTimeout(context.Background(), fileTimeout)
		defer cancel()
		rows, _ := f.s.db.Query(ctx, `SELECT name FROM evidence_files ORDER BY name`)
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			yield("", err)
			return
		}
		for _, n := range names {
			if !yield(n, nil) {
				return
			}
		}
	}
}
