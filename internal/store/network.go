package store

import (
	"encoding/json"
	"fmt"

	"github.com/safeguard-oss/safeguard/internal/network"
)

// Rows is what EachEvent needs of a query's rows (database/sql's and
// pgx's both have it).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// EachEvent decodes rows of one column, network_events.doc, and calls fn
// with each event: network.Store.Events for both backends.
func EachEvent(rows Rows, fn func(network.Event) error) error {
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		var e network.Event
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
