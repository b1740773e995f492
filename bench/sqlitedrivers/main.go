// Command sqlitedrivers compares the two maintained SQLite drivers for Go on
// Safeguard's bank workload: modernc.org/sqlite (pure Go, a C-to-Go
// translation of SQLite; what internal/store/sqlite uses) and
// github.com/mattn/go-sqlite3 (cgo, SQLite's C). It is a module of its own
// so the cgo driver stays out of Safeguard's go.mod.
//
//	cd bench/sqlitedrivers && go run . [-n 1000000] [-lookups 100000]
//
// The schema, pragmas and statements are those of internal/store/sqlite.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3" // "sqlite3"
	_ "modernc.org/sqlite"          // "sqlite"
)

// schema is internal/store/sqlite/schema/0001_banks.sql's entries table.
const schema = `
CREATE TABLE entries (
    id          INTEGER PRIMARY KEY,
    bank_id     INTEGER NOT NULL,
    signal      TEXT    NOT NULL,
    value       BLOB    NOT NULL,
    source      TEXT    NOT NULL DEFAULT '',
    external_id TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL DEFAULT '',
    added_at    INTEGER NOT NULL,
    added_by    TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',
    removed     INTEGER NOT NULL DEFAULT 0,
    seq         INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX entries_live ON entries (bank_id, signal, value) WHERE removed = 0;
CREATE INDEX entries_bank_live ON entries (bank_id, id) WHERE removed = 0;
CREATE UNIQUE INDEX entries_seq ON entries (seq);`

var pragmas = []string{
	"PRAGMA journal_mode = wal",
	"PRAGMA synchronous = normal",
	"PRAGMA cache_size = -65536",
	"PRAGMA temp_store = memory",
	"PRAGMA busy_timeout = 30000",
}

// batch is the rows per INSERT, as in internal/store/sqlite.
const batch = 256

func main() {
	n := flag.Int("n", 1_000_000, "PDQ entries to insert")
	lookups := flag.Int("lookups", 100_000, "point lookups to time")
	flag.Parse()
	dir, err := os.MkdirTemp("", "sqlitedrivers")
	check(err)
	defer os.RemoveAll(dir)

	fmt.Printf("%d PDQ entries, %d lookups, %s/%s, %d CPUs, Go %s\n\n", *n, *lookups, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Println("CPU time (user + system) of this process per entry or lookup; wall clock in parentheses.")
	fmt.Println()
	fmt.Println("| driver | insert, 1 row a statement | insert, 256 rows a statement | point lookup | stream all | file |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, d := range []struct{ name, driver string }{
		{"modernc.org/sqlite (pure Go)", "sqlite"},
		{"mattn/go-sqlite3 (cgo)", "sqlite3"},
	} {
		single := run(d.driver, filepath.Join(dir, d.driver+"-1.db"), *n, 1, 0)
		r := run(d.driver, filepath.Join(dir, d.driver+".db"), *n, batch, *lookups)
		fmt.Printf("| %s | %s | %s | %s | %s | %d MB |\n", d.name,
			single.insert.per(*n), r.insert.per(*n), r.lookup.per(*lookups), r.stream.per(*n), r.size>>20)
	}
}

type result struct {
	insert, lookup, stream span
	size                   int64
}

// span is the wall-clock and CPU time of a phase.
type span struct{ wall, cpu time.Duration }

func (s span) per(n int) string {
	return fmt.Sprintf("%.2f µs (%.2f µs)", float64(s.cpu.Nanoseconds())/1e3/float64(n), float64(s.wall.Nanoseconds())/1e3/float64(n))
}

type clock struct {
	wall time.Time
	cpu  time.Duration
}

func now() clock {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return clock{time.Now(), cpu}
}

func since(c clock) span {
	n := now()
	return span{n.wall.Sub(c.wall), n.cpu - c.cpu}
}

// run inserts n entries in one transaction, rows statements at a time, then
// (if lookups > 0) looks up random ones and streams them all.
func run(driver, path string, n, rows, lookups int) result {
	ctx := context.Background()
	db, err := sql.Open(driver, path)
	check(err)
	defer db.Close()
	db.SetMaxOpenConns(1) // so the pragmas hold for every statement
	for _, p := range pragmas {
		_, err := db.Exec(p)
		check(err)
	}
	_, err = db.Exec(schema)
	check(err)

	var res result
	start := now()
	tx, err := db.BeginTx(ctx, nil)
	check(err)
	stmt, err := tx.Prepare(`INSERT INTO entries (bank_id, signal, value, source, external_id, category, added_at, added_by, note, seq) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?),`, rows), ",") + ` ON CONFLICT DO NOTHING`)
	check(err)
	rng := rand.New(rand.NewPCG(1, 2))
	args := make([]any, 0, rows*10)
	added := time.Now().UnixMicro()
	for i := range n {
		args = append(args, 1, "pdq", value(rng), "synthetic", fmt.Sprint(i), "A", added, "", "", i+1)
		if len(args) == cap(args) {
			_, err := stmt.Exec(args...)
			check(err)
			args = args[:0]
		}
	}
	check(stmt.Close())
	if len(args) > 0 { // n not a multiple of rows: one short statement
		_, err := tx.Exec(`INSERT INTO entries (bank_id, signal, value, source, external_id, category, added_at, added_by, note, seq) VALUES `+
			strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?),`, len(args)/10), ",")+` ON CONFLICT DO NOTHING`, args...)
		check(err)
	}
	check(tx.Commit())
	res.insert = since(start)
	if lookups == 0 {
		return res
	}

	// Look up values that are there: regenerate the sequence, sample it.
	rng = rand.New(rand.NewPCG(1, 2))
	keys := make([][]byte, 0, lookups)
	for i := range n {
		v := value(rng)
		if i%(n/lookups) == 0 && len(keys) < lookups {
			keys = append(keys, v)
		}
	}
	rand.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	q, err := db.Prepare(`SELECT id FROM entries WHERE bank_id = ? AND signal = ? AND value = ? AND removed = 0`)
	check(err)
	start = now()
	for _, k := range keys {
		var id int64
		check(q.QueryRow(1, "pdq", k).Scan(&id))
	}
	res.lookup = since(start)
	q.Close()

	start = now()
	rows2, err := db.Query(`SELECT id, bank_id, signal, value, source, external_id, category, added_at, added_by, note FROM entries WHERE bank_id = 1 AND removed = 0 ORDER BY id`)
	check(err)
	count := 0
	for rows2.Next() {
		var id, bank, added int64
		var sig, src, ext, cat, by, note string
		var v []byte
		check(rows2.Scan(&id, &bank, &sig, &v, &src, &ext, &cat, &added, &by, &note))
		count++
	}
	check(rows2.Err())
	res.stream = since(start)
	if count != n {
		check(fmt.Errorf("streamed %d entries, want %d", count, n))
	}
	st, err := os.Stat(path)
	check(err)
	res.size = st.Size()
	return res
}

func value(rng *rand.Rand) []byte {
	b := make([]byte, 32)
	for i := 0; i < 32; i += 8 {
		x := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(x >> (8 * j))
		}
	}
	return b
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlitedrivers:", err)
		os.Exit(1)
	}
}
