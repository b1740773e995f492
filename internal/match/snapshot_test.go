package match_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/signal"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
)

// snapshotFixture is a store with PDQ codes (more than a segment's worth,
// near-duplicates among them), digests and a video.
type snapshotFixture struct {
	codes []pdq.Hash
	rng   *rand.Rand
}

func fill(t *testing.T, st store.Store, fx *snapshotFixture, n int) {
	t.Helper()
	var es []bank.Entry
	for range n {
		h := randomHash(fx.rng)
		if len(fx.codes) > 0 && fx.rng.IntN(4) == 0 {
			h = flip(fx.rng, fx.codes[fx.rng.IntN(len(fx.codes))], 1+fx.rng.IntN(20))
		}
		fx.codes = append(fx.codes, h)
		es = append(es, pdqEntry(h))
		sum := md5.Sum(h[:])
		es = append(es, bank.Entry{Signal: bank.MD5, Value: hex.EncodeToString(sum[:])})
	}
	add(t, st, "b", es...)
}

// answers is what m says to a query near each code, and to each code's
// MD5 and the sample video: the test's notion of "the same index".
func answers(t *testing.T, m *match.Matcher, fx *snapshotFixture, video signal.Set) [][]int64 {
	t.Helper()
	var out [][]int64
	ask := func(q match.Query) {
		res, err := m.Match(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range res.Matches {
			ids = append(ids, r.EntryID, int64(r.Distance))
		}
		out = append(out, ids)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i, h := range fx.codes {
		if i%7 != 0 {
			continue
		}
		q := flip(rng, h, rng.IntN(30))
		ask(match.Query{Set: signal.Set{PDQ: &q, Quality: -1}, Radius: -1})
		sum := md5.Sum(h[:])
		ask(match.Query{Set: signal.Set{MD5: &sum, Quality: -1}, Radius: -1})
	}
	ask(match.Query{Set: video, Radius: -1})
	return out
}

func fresh(t *testing.T, st store.Store) *match.Matcher {
	t.Helper()
	m := match.New(st)
	if _, err := m.Load(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSnapshotLoad: a matcher loaded from its snapshot and the feed after
// it answers as one loaded from the whole feed, for PDQ codes, digests and
// videos, after additions and removals on both sides of the snapshot.
func TestSnapshotLoad(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	mustBank(t, st, "b", 31)
	fx := &snapshotFixture{rng: rand.New(rand.NewPCG(1, 9))}
	fill(t, st, fx, 3000)
	frames := sampleFrames(t, "chair-20-sd-bar")
	add(t, st, "b", vpdqEntry(t, frames, "chair"))
	video := signal.Set{VPDQ: sampleFrames(t, "chair-orig-22-sd-bar"), Quality: -1}
	path := filepath.Join(t.TempDir(), "index.snapshot")

	m := fresh(t, st)
	if err := m.WriteSnapshot(ctx, path); err != nil {
		t.Fatal(err)
	}
	fill(t, st, fx, 500)
	for _, h := range fx.codes[:200] {
		if err := st.RemoveEntry(ctx, "b", bank.PDQ, h.String()); err != nil {
			t.Fatal(err)
		}
	}
	m2 := match.New(st)
	info, err := m2.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Snapshot || info.Refused != nil || info.Changes != 1200 {
		t.Fatalf("load %+v: want the snapshot and the 1,200 changes after it (500 codes, their digests, 200 removals)", info)
	}
	want := answers(t, fresh(t, st), fx, video)
	if got := answers(t, m2, fx, video); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatal("the matcher loaded from the snapshot answers differently from one loaded from the feed")
	}
	if s := m2.Stats(); s.Videos != 1 || s.PDQ != 3300 || s.Exact != 3500 {
		t.Fatalf("stats %+v", s)
	}

	// A second snapshot replaces the first and its mark: the first file,
	// kept aside, no longer loads.
	old := path + ".old"
	copyFile(t, path, old)
	if err := m2.WriteSnapshot(ctx, path); err != nil {
		t.Fatal(err)
	}
	if info, err := match.New(st).Load(ctx, old); err != nil || info.Snapshot || info.Refused == nil {
		t.Fatalf("load of the replaced snapshot: %+v, %v", info, err)
	}
	if info, err := match.New(st).Load(ctx, path); err != nil || !info.Snapshot || info.Changes != 0 {
		t.Fatalf("load of the new snapshot: %+v, %v", info, err)
	}
}

// TestSnapshotRefused: a snapshot of another database, one newer than a
// restored backup, and a corrupt one are each refused, and the matcher
// loads the feed of the store it has, with nothing skipped.
func TestSnapshotRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	mustBank(t, st, "b", 31)
	fx := &snapshotFixture{rng: rand.New(rand.NewPCG(2, 9))}
	fill(t, st, fx, 2500)
	st.Close()
	// The backup: a copy of the database before the snapshot.
	backup := t.TempDir()
	for _, name := range []string{sqlite.FileName} {
		copyFile(t, filepath.Join(dir, name), filepath.Join(backup, name))
	}
	st, err = sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fill(t, st, fx, 300)
	path := filepath.Join(t.TempDir(), "index.snapshot")
	if err := fresh(t, st).WriteSnapshot(ctx, path); err != nil {
		t.Fatal(err)
	}

	restored, err := sqlite.Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	// After the restore, other changes take the feed positions the
	// snapshot covers: loading the snapshot would skip them.
	other := &snapshotFixture{rng: rand.New(rand.NewPCG(3, 9))}
	fill(t, restored, other, 400)
	other.codes = append(fx.codes[:2500:2500], other.codes...)
	other.rng = fx.rng

	another := openStore(t)
	mustBank(t, another, "b", 31)
	fill(t, another, &snapshotFixture{rng: rand.New(rand.NewPCG(4, 9))}, 100)

	corrupt := path + ".corrupt"
	copyFile(t, path, corrupt)
	b, err := os.ReadFile(corrupt)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x10
	if err := os.WriteFile(corrupt, b, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		st   store.Store
		path string
		fx   *snapshotFixture
	}{{"restored", restored, path, other}, {"another", another, path, fx}, {"corrupt", st, corrupt, fx}} {
		m := match.New(tc.st)
		info, err := m.Load(ctx, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Snapshot || info.Refused == nil {
			t.Errorf("%s: load %+v: want the snapshot refused", tc.name, info)
			continue
		}
		t.Logf("%s: %v", tc.name, info.Refused)
		if got, want := answers(t, m, tc.fx, signal.Set{}), answers(t, fresh(t, tc.st), tc.fx, signal.Set{}); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: answers differ from a load of the feed", tc.name)
		}
	}
	if info, err := match.New(st).Load(ctx, filepath.Join(t.TempDir(), "none")); err != nil || info.Snapshot || info.Refused != nil {
		t.Errorf("no snapshot file: %+v, %v: want the feed, nothing refused", info, err)
	}
}

// TestLoading: while Load runs, matching is refused (503 at the API), not
// answered "no match"; Sync waits for Load's own feed read.
func TestLoading(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	mustBank(t, st, "b", 31)
	h := randomHash(rand.New(rand.NewPCG(5, 5)))
	add(t, st, "b", pdqEntry(h))
	m := match.New(st)
	m.Loading()
	if _, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &h, Quality: -1}, Radius: -1}); !errors.Is(err, match.ErrLoading) {
		t.Fatalf("match while loading: %v, want ErrLoading", err)
	}
	if err := m.Sync(ctx); err != nil || m.Stats().PDQ != 0 || !m.Stats().Loading {
		t.Fatalf("sync while loading: %v, %+v", err, m.Stats())
	}
	if _, err := m.Load(ctx, ""); err != nil {
		t.Fatal(err)
	}
	res, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &h, Quality: -1}, Radius: -1})
	if err != nil || len(res.Matches) != 1 || m.Stats().Loading {
		t.Fatalf("after load: %+v, %v", res, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
