package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ network.Store = (*Store)(nil)

// AddEvents implements network.Store.
func (s *Store) AddEvents(ctx context.Context, es []network.Event) (int, error) {
	n := 0
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		n = 0
		st, err := tx.PrepareContext(ctx, `INSERT INTO network_events (key, doc) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range es {
			doc, err := json.Marshal(&es[i])
			if err != nil {
				return err
			}
			res, err := st.ExecContext(ctx, es[i].Key(), string(doc))
			if err != nil {
				return fmt.Errorf("storing event %d: %w", i+1, err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, err
}

// Events implements network.Store.
func (s *Store) Events(ctx context.Context, fn func(network.Event) error) error {
	rows, err := s.r().QueryContext(ctx, `SELECT doc FROM network_events ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("reading events: %w", err)
	}
	defer rows.Close()
	return store.EachEvent(rows, fn)
}

// ScannedPDQ implements network.Store.
func (s *Store) ScannedPDQ(ctx context.Context, contentID string) (string, error) {
	var h string
	err := s.r().QueryRowContext(ctx, `SELECT pdq FROM scans WHERE content_id = ? AND pdq <> '' AND low_quality = 0
		ORDER BY time DESC LIMIT 1`, contentID).Scan(&h)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("scan of content %q: %w", contentID, err)
	}
	return h, nil
}
