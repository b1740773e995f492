package postgres

import (
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/safeguard-oss/safeguard/internal/derrors"
)

func init() { derrors.Classify(classify) }

// classify gives PostgreSQL's faults the kind Unavailable, so they answer
// 503 with Retry-After instead of 500: the server unreachable or gone
// (connection errors, a dropped connection), out of resources (SQLSTATE
// class 53: disk full, out of memory, too many connections), shutting
// down or in recovery (class 57P), or a read-only standby (25006).
func classify(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"),
			strings.HasPrefix(pe.Code, "57P"), pe.Code == "25006", pe.Code == "40001", pe.Code == "40P01":
			return derrors.Unavailable
		}
		return nil
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &ce), errors.As(err, &oe), errors.As(err, &ne),
		pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return derrors.Unavailable
	}
	// pgx reports a closed pool or connection by message only.
	if msg := err.Error(); strings.Contains(msg, "closed pool") || strings.Contains(msg, "conn closed") || strings.Contains(msg, "unexpected EOF") {
		return derrors.Unavailable
	}
	return nil
}
