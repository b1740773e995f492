package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ network.Store = (*Store)(nil)

// AddEvents implements network.Store: one batch in one transaction.
func (s *Store) AddEvents(ctx context.Context, es []network.Event) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		n = 0
		var b pgx.Batch
		for i := range es {
			doc, err := json.Marshal(&es[i])
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO network_events (key, doc) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, es[i].Key(), string(doc))
		}
		br := tx.SendBatch(ctx, &b)
		for i := range es {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return fmt.Errorf("storing event %d: %w", i+1, err)
			}
			n += int(tag.RowsAffected())
		}
		return br.Close()
	})
	return n, err
}

// Events implements network.Store.
func (s *Store) Events(ctx context.Context, fn func(network.Event) error) error {
	rows, err := s.db.Query(ctx, `SELECT doc FROM network_events ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("reading events: %w", err)
	}
	defer rows.Close()
	return store.EachEvent(rows, fn)
}

// ScannedPDQ implements network.Store.
func (s *Store) ScannedPDQ(ctx context.Context, contentID string) (string, error) {
	var h string
	err := s.db.QueryRow(ctx, `SELECT pdq FROM scans WHERE content_id = $1 AND pdq <> '' AND NOT low_quality
		ORDER BY time DESC LIMIT 1`, contentID).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("scan of content %q: %w", contentID, err)
	}
	return h, nil
}
