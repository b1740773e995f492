package lerequest_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/lerequesttest"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func valid() lerequest.Request {
	return lerequest.Request{Agency: "Police", LegalBasis: "order 7", Accounts: []string{"acct-1"},
		From: t0.Add(-24 * time.Hour), To: t0, Deadline: t0.Add(48 * time.Hour)}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*lerequest.Request)
		want []string // fragments of the error; none: valid
	}{
		{"valid", func(*lerequest.Request) {}, nil},
		{"no agency", func(r *lerequest.Request) { r.Agency = " " }, []string{"agency is required"}},
		{"no legal basis", func(r *lerequest.Request) { r.LegalBasis = "" }, []string{"legal_basis is required"}},
		{"no accounts", func(r *lerequest.Request) { r.Accounts = nil }, []string{"at least one account"}},
		{"account twice", func(r *lerequest.Request) { r.Accounts = []string{"a", "a"} }, []string{`accounts[1] "a" is listed twice`}},
		{"spaced account", func(r *lerequest.Request) { r.Accounts = []string{" a"} }, []string{"surrounding space"}},
		{"long account", func(r *lerequest.Request) { r.Accounts = []string{strings.Repeat("a", 300)} }, []string{"accounts[0] is 300 bytes"}},
		{"bad case", func(r *lerequest.Request) { r.Cases = []int64{0} }, []string{"cases[0] 0 is not a case id"}},
		{"no period", func(r *lerequest.Request) { r.From = time.Time{} }, []string{"from and to"}},
		{"period backwards", func(r *lerequest.Request) { r.From, r.To = r.To, r.From }, []string{"is not before to"}},
		{"no deadline", func(r *lerequest.Request) { r.Deadline = time.Time{} }, []string{"deadline is required"}},
		{"everything at once", func(r *lerequest.Request) { *r = lerequest.Request{} },
			[]string{"agency is required", "legal_basis is required", "at least one account", "from and to", "deadline is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.edit(&r)
			err := r.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, lerequest.ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestOrder: emergencies first whatever their deadline, then the nearest
// deadline, then closed requests, most recently closed first.
func TestOrder(t *testing.T) {
	req := func(id int64, state lerequest.State, emergency bool, deadline, closed time.Duration) lerequest.Request {
		r := lerequest.Request{ID: id, State: state, Emergency: emergency, Deadline: t0.Add(deadline)}
		if state != lerequest.Open {
			r.Closed = t0.Add(closed)
		}
		return r
	}
	rs := []lerequest.Request{
		req(1, lerequest.Open, false, 2*time.Hour, 0),
		req(2, lerequest.Fulfilled, true, time.Hour, time.Minute),
		req(3, lerequest.Open, true, 50*time.Hour, 0),
		req(4, lerequest.Open, false, time.Hour, 0),
		req(5, lerequest.Refused, false, time.Hour, time.Hour),
		req(6, lerequest.Open, true, 5*time.Hour, 0),
		req(7, lerequest.Open, false, time.Hour, 0), // same deadline as 4: by id
	}
	lerequest.Sort(rs)
	var got []int64
	for _, r := range rs {
		got = append(got, r.ID)
	}
	if want := []int64{6, 3, 4, 7, 1, 5, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestOverdue(t *testing.T) {
	r := valid()
	r.State = lerequest.Open
	for _, tc := range []struct {
		state lerequest.State
		now   time.Time
		want  bool
	}{
		{lerequest.Open, r.Deadline.Add(-time.Second), false},
		{lerequest.Open, r.Deadline, false},
		{lerequest.Open, r.Deadline.Add(time.Second), true},
		{lerequest.Fulfilled, r.Deadline.Add(time.Hour), false},
		{lerequest.Refused, r.Deadline.Add(time.Hour), false},
	} {
		r.State = tc.state
		if got := r.Overdue(tc.now); got != tc.want {
			t.Errorf("%s at deadline%+v: overdue %v, want %v", tc.state, tc.now.Sub(r.Deadline), got, tc.want)
		}
	}
}

func TestRegister(t *testing.T) {
	ctx := context.Background()
	c := testkit.NewClock(t0)
	g := &lerequest.Register{Store: new(lerequesttest.Memory), Now: c.Now}
	if _, err := g.Create(ctx, lerequest.Request{Agency: "x"}, "key_1"); !errors.Is(err, lerequest.ErrInvalid) {
		t.Fatalf("invalid request entered: %v", err)
	}
	in := valid()
	in.State, in.Reason = lerequest.Refused, "set by the client: ignored"
	r, err := g.Create(ctx, in, "key_1")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != lerequest.Open || !r.Created.Equal(t0) || r.CreatedBy != "key_1" || r.Reason != "" {
		t.Errorf("created %+v: want open, created now by key_1, no reason", r)
	}
	if _, err := g.Close(ctx, r.ID, lerequest.Refused, "key_2", ""); !errors.Is(err, lerequest.ErrInvalid) {
		t.Errorf("refusal without a reason: %v, want ErrInvalid", err)
	}
	if _, err := g.Close(ctx, r.ID, lerequest.Open, "key_2", ""); !errors.Is(err, lerequest.ErrInvalid) {
		t.Errorf("closing as open: %v, want ErrInvalid", err)
	}
	c.Set(t0.Add(time.Hour))
	closed, err := g.Close(ctx, r.ID, lerequest.Fulfilled, "key_2", "sent by courier")
	if err != nil {
		t.Fatal(err)
	}
	if closed.State != lerequest.Fulfilled || !closed.Closed.Equal(c.Now()) || closed.ClosedBy != "key_2" {
		t.Errorf("closed %+v", closed)
	}
	if _, err := g.Close(ctx, r.ID, lerequest.Refused, "key_2", "again"); !errors.Is(err, lerequest.ErrState) {
		t.Errorf("closing a closed request: %v, want ErrState", err)
	}
	if _, err := g.Close(ctx, r.ID+1, lerequest.Fulfilled, "key_2", ""); !errors.Is(err, lerequest.ErrNotFound) {
		t.Errorf("closing an unknown request: %v, want ErrNotFound", err)
	}
	if _, err := g.List(ctx, "pending"); !errors.Is(err, lerequest.ErrInvalid) {
		t.Errorf("listing an unknown state: %v, want ErrInvalid", err)
	}
}
