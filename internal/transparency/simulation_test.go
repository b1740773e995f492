package transparency_test

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/lerequesttest"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/selfreport"
	"github.com/safeguard-oss/safeguard/internal/testkit"
	"github.com/safeguard-oss/safeguard/internal/transparency"
)

// The simulation's ground truth: what it filed and decided, as it did
// it. The expected figures below are computed from these records alone.
type simReport struct {
	caseID  int64
	ch      transparency.Channel
	cat     review.Category
	at      time.Time
	content string
}

type simCase struct {
	id       int64
	reports  []*simReport
	contents []string
	flagged  bool
	state    review.State
	verdict  review.Verdict // standing
	decided  time.Time      // first final decision
	auto     bool
	appealAt time.Time
	appealed bool // decided on appeal
	appealBy review.Verdict
	appealTo time.Time
	reFiled  []*simReport // reports of its content filed after its dismissal
}

type event struct {
	at   time.Time
	kind int
	c    *simCase
	n    int
}

const (
	arrive = iota
	decide
	second
	appeal
	decideAppeal
	refile
)

type events []event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if !e[i].at.Equal(e[j].at) {
		return e[i].at.Before(e[j].at)
	}
	return e[i].n < e[j].n
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// stores is the three memory stores as one, as store.Store is.
type stores struct {
	*reviewtest.Memory
	le *lereporttest.Memory
	rq *lerequesttest.Memory
}

func (s stores) LEReports(ctx context.Context, st lereport.State) ([]lereport.Report, error) {
	return s.le.LEReports(ctx, st)
}

func (s stores) LERequests(ctx context.Context, st lerequest.State) ([]lerequest.Request, error) {
	return s.rq.LERequests(ctx, st)
}

var (
	start = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	end   = start.Add(91 * 24 * time.Hour) // a quarter: the period is [start, end)
	asOf  = end.Add(10 * 24 * time.Hour)
)

// TestQuarter simulates a quarter of a platform's life on a fake clock:
// reports from every source, reviewers deciding (some late, some never),
// trusted flaggers' second looks, appeals, content found again after a
// dismissal, law-enforcement reports and data requests. It computes every
// figure from its own records and checks the report's CSV prints them.
func TestQuarter(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	ctx := context.Background()
	clk := testkit.NewClock(start)
	mem := &reviewtest.Memory{}
	desk := review.NewDesk(mem, mem, review.Config{Now: clk.Now})
	rng := rand.New(rand.NewPCG(18, 1))
	sec := func(max time.Duration) time.Duration {
		return time.Duration(rng.Int64N(int64(max/time.Second))) * time.Second
	}

	var q events
	seq := 0
	push := func(e event) {
		seq++
		e.n = seq
		if e.at.Before(asOf) {
			heap.Push(&q, e)
		}
	}
	// Arrivals from a week before the period to three days after it.
	for range n {
		push(event{at: start.Add(-7*24*time.Hour + sec(101*24*time.Hour)), kind: arrive})
	}
	var all []*simReport
	cases := map[int64]*simCase{}
	var openContent []string                // content ids with an open case, to report again
	contentCases := map[string][]*simCase{} // every case that held a content id
	lastContent := 0

	file := func(r review.Report, sr *simReport) {
		// The cases dismissed about this content before it came again.
		var before []*simCase
		for _, x := range contentCases[r.ContentID] {
			if x.state == review.Decided && x.verdict == review.Dismiss {
				before = append(before, x)
			}
		}
		rep, c, _, err := desk.File(ctx, r)
		if err != nil {
			t.Fatalf("file %+v: %v", r, err)
		}
		sr.caseID = rep.CaseID
		all = append(all, sr)
		sc := cases[c.ID]
		if sc == nil {
			sc = &simCase{id: c.ID, state: review.Open}
			cases[c.ID] = sc
			if c.State == review.Decided { // known, matched exactly: acted on at once
				sc.state, sc.verdict, sc.decided, sc.auto = review.Decided, review.Confirm, sr.at, true
				if rng.IntN(20) == 0 {
					push(event{at: sr.at.Add(sec(20 * 24 * time.Hour)), kind: appeal, c: sc})
				}
			} else if rng.IntN(100) < 92 {
				// Most cases are decided within the day; a tail waits days.
				d := sec(4 * time.Hour)
				if rng.IntN(4) == 0 {
					d = sec(10 * 24 * time.Hour)
				}
				push(event{at: sr.at.Add(d + time.Second), kind: decide, c: sc})
			}
		}
		sc.reports = append(sc.reports, sr)
		sc.flagged = sc.flagged || sr.ch == transparency.TrustedFlaggers
		if sr.content != "" && !slices.Contains(sc.contents, sr.content) {
			sc.contents = append(sc.contents, sr.content)
			contentCases[sr.content] = append(contentCases[sr.content], sc)
		}
		for _, x := range before {
			if x != sc {
				x.reFiled = append(x.reFiled, sr)
			}
		}
		if sc.state == review.Open && sr.content != "" {
			openContent = append(openContent, sr.content)
		}
	}
	newContent := func() string { lastContent++; return fmt.Sprint("post-", lastContent) }
	userCats := review.Categories[1:]

	for q.Len() > 0 {
		e := heap.Pop(&q).(event)
		clk.Set(e.at)
		switch e.kind {
		case arrive:
			sr := &simReport{at: e.at}
			var r review.Report
			switch x := rng.IntN(100); {
			case x < 45: // a user's report, a third of them about content already reported
				content := newContent()
				// Only while its case is open: a report joining an
				// appealed case would be decided by the appeal.
				if len(openContent) > 0 && rng.IntN(3) == 0 {
					if x := openContent[rng.IntN(len(openContent))]; slices.ContainsFunc(contentCases[x], func(c *simCase) bool { return c.state == review.Open }) {
						content = x
					}
				}
				r = review.Report{Source: review.User, Reporter: fmt.Sprint("user-", rng.IntN(3000)),
					Category: userCats[rng.IntN(len(userCats))], ContentID: content}
				sr.ch = transparency.Users
			case x < 60:
				r = review.Report{Source: review.Flagger, Reporter: fmt.Sprint("hotline-", rng.IntN(4)),
					Category: []review.Category{review.SuspectedCSAM, review.Grooming, review.Sextortion}[rng.IntN(3)], ContentID: newContent()}
				sr.ch = transparency.TrustedFlaggers
			case x < 85: // a rule on a bank match: known images exactly (acted on at once), self-reported ones
				m := match.Match{Bank: "ncmec", EntryID: int64(e.n), Signal: bank.MD5}
				if rng.IntN(3) == 0 {
					m = match.Match{Bank: selfreport.BankName, EntryID: int64(e.n), Signal: bank.PDQ, Distance: 4}
				}
				r = review.RuleReport(rules.Decided{Action: rules.Action{Kind: rules.Enqueue, Priority: 80},
					Rule: rules.RuleRef{ID: 1, Version: 1, Name: "banks"}, Match: m})
				r.ContentID = newContent()
				sr.ch = transparency.ProactiveBank
			case x < 95:
				r = review.Report{Source: review.Rule, Reporter: "rule:2", Category: []review.Category{review.Grooming, review.Sextortion}[rng.IntN(2)],
					Rule: &rules.RuleRef{ID: 2, Version: 1, Name: "grooming text"}, Priority: 60, Text: "message",
					AccountID: fmt.Sprint("sender-", e.n), TextSignal: &review.TextSignal{Surface: "dm", Score: 0.9, Labels: []string{"grooming"}}}
				sr.ch = transparency.ProactiveText
			default:
				r = review.Report{Source: review.Detector, Reporter: "network-detector", Category: review.SexualisedChild,
					AccountID: fmt.Sprint("member-", e.n)}
				sr.ch = transparency.ProactiveNet
			}
			sr.cat, sr.content = r.Category, r.ContentID
			file(r, sr)
		case decide, second:
			c := e.c
			if c.state != review.Open && !(e.kind == second && c.state == review.PendingSecond) {
				continue
			}
			confirm := rng.IntN(100) < map[transparency.Channel]int{
				transparency.Users: 40, transparency.TrustedFlaggers: 75, transparency.ProactiveBank: 90,
				transparency.ProactiveText: 70, transparency.ProactiveNet: 60}[c.reports[0].ch]
			reviewer := "r1"
			if e.kind == second {
				reviewer = "r2"
			}
			dec := review.Decision{Reviewer: reviewer, Verdict: review.Dismiss, Reason: "no violation"}
			if confirm {
				dec = review.Decision{Reviewer: reviewer, Verdict: review.Confirm, Classification: review.B2, Actions: []review.Action{review.Remove}}
			}
			got, _, err := desk.Decide(ctx, c.id, dec)
			if err != nil {
				t.Fatalf("decide case %d: %v", c.id, err)
			}
			if got.State == review.PendingSecond {
				c.state = review.PendingSecond
				push(event{at: e.at.Add(sec(2*24*time.Hour) + time.Second), kind: second, c: c})
				continue
			}
			c.state, c.verdict, c.decided = review.Decided, dec.Verdict, e.at
			switch {
			case confirm && rng.IntN(20) == 0:
				push(event{at: e.at.Add(sec(20*24*time.Hour) + time.Second), kind: appeal, c: c})
			case !confirm && len(c.contents) > 0 && rng.IntN(5) == 0:
				push(event{at: e.at.Add(sec(30*24*time.Hour) + time.Second), kind: refile, c: c})
			}
		case appeal:
			c := e.c
			if _, _, err := desk.Appeal(ctx, c.id, review.Appeal{Appellant: "uploader", Reason: "not what it seems"}); err != nil {
				t.Fatalf("appeal case %d: %v", c.id, err)
			}
			c.state, c.appealAt = review.Appealed, e.at
			if rng.IntN(10) < 9 {
				push(event{at: e.at.Add(sec(3*24*time.Hour) + time.Second), kind: decideAppeal, c: c})
			}
		case decideAppeal:
			c := e.c
			dec := review.Decision{Reviewer: "appeals-officer", Verdict: review.Confirm}
			if rng.IntN(3) == 0 {
				dec = review.Decision{Reviewer: "appeals-officer", Verdict: review.Dismiss, Reason: "overturned"}
			}
			if _, _, err := desk.Decide(ctx, c.id, dec); err != nil {
				t.Fatalf("decide appeal of case %d: %v", c.id, err)
			}
			c.state, c.verdict, c.appealed, c.appealBy, c.appealTo = review.Decided, dec.Verdict, true, dec.Verdict, e.at
		case refile: // the dismissed content turns up again
			c := e.c
			sr := &simReport{at: e.at, ch: transparency.Users, cat: c.reports[0].cat, content: c.contents[0]}
			file(review.Report{Source: review.User, Reporter: "user-again", Category: sr.cat, ContentID: sr.content}, sr)
		}
	}
	clk.Set(asOf)

	lers := &lereporttest.Memory{}
	reqs := &lerequesttest.Memory{}
	les, rqs := service(t, rng, lers, reqs)

	in, err := transparency.Gather(ctx, stores{Memory: mem, le: lers, rq: reqs}, start, asOf)
	if err != nil {
		t.Fatal(err)
	}
	p := transparency.Period{From: start, To: end}
	rep := transparency.Compute(in, p, transparency.Config{Target: desk.Target})
	var buf bytes.Buffer
	if err := transparency.WriteCSV(&buf, rep); err != nil {
		t.Fatal(err)
	}
	printed := readCSV(t, buf.Bytes())

	// The expected figures, from the simulation's records.
	var inPeriod []*simReport
	for _, r := range all {
		if !r.at.Before(start) && r.at.Before(end) {
			inPeriod = append(inPeriod, r)
		}
	}
	if len(inPeriod) < n*8/10 {
		t.Fatalf("only %d of %d reports in the period", len(inPeriod), n)
	}
	check := func(group string, want map[string]float64) {
		t.Helper()
		for name, v := range want {
			got, ok := printed[group][name]
			if !ok {
				t.Errorf("%s %s: not printed", group, name)
				continue
			}
			if math.Abs(got-v) > 1e-9*math.Max(1, math.Abs(v)) {
				t.Errorf("%s %s = %v, want %v", group, name, got, v)
			}
		}
	}
	check("all", expect(inPeriod, cases, nil))
	for _, cat := range review.Categories {
		if _, ok := printed[string(cat)]; ok {
			check(string(cat), expect(inPeriod, cases, &cat))
		}
	}
	check("service", expectService(les, rqs))
	w := expect(inPeriod, cases, nil)
	t.Logf("%d reports in the period, %d cases; missed %v of %v dismissed, %v appeals, proactive share %.3f (of actioned %.3f)",
		len(inPeriod), len(cases), w["missed"], w["dismissed"], w["appeals"], w["proactive_share"], w["proactive_share_of_actioned"])
	if w["missed"] == 0 || w["appeals.overturned"] == 0 || w["overdue"] == 0 || w["undecided"] == 0 || w["decided_automatically"] == 0 {
		t.Errorf("the simulation did not exercise every figure: %v", w)
	}

	// The DSA export: the committed field set, every field filled or
	// marked outside Safeguard, the known ones equal to the figures.
	buf.Reset()
	if err := transparency.WriteDSA(&buf, rep, in, transparency.Config{Target: desk.Target}); err != nil {
		t.Fatal(err)
	}
	checkDSA(t, buf.Bytes(), inPeriod, cases)
}

func service(t *testing.T, rng *rand.Rand, lers *lereporttest.Memory, reqs *lerequesttest.Memory) ([]lereport.Report, []lerequest.Request) {
	ctx := context.Background()
	var les []lereport.Report
	for i := range 300 {
		at := start.Add(-10 * 24 * time.Hour).Add(time.Duration(rng.IntN(105*24*3600)) * time.Second)
		r := lereport.Report{CaseID: fmt.Sprint(i), Recipient: "cybertipline", State: lereport.Submitted, Created: at.Add(-time.Hour), Updated: at,
			History: []lereport.Change{{From: lereport.Draft, To: lereport.Ready, Actor: "l", At: at.Add(-time.Hour)}, {From: lereport.Ready, To: lereport.Submitted, Actor: "l", At: at}}}
		switch rng.IntN(10) {
		case 0:
			r.State = lereport.Retracted
			r.History = append(r.History, lereport.Change{From: lereport.Submitted, To: lereport.Retracted, Actor: "l", At: at.Add(time.Hour)})
		case 1, 2:
		default:
			ack := at.Add(time.Duration(rng.IntN(5*24*3600)) * time.Second)
			if ack.Before(asOf) {
				r.State = lereport.Acknowledged
				r.History = append(r.History, lereport.Change{From: lereport.Submitted, To: lereport.Acknowledged, Actor: "cybertipline", At: ack})
			}
		}
		r, err := lers.CreateLEReport(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		les = append(les, r)
	}
	// A draft never sent is no report sent.
	if _, err := lers.CreateLEReport(ctx, lereport.Report{CaseID: "x", Recipient: "cybertipline", State: lereport.Draft, Created: start.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var rqs []lerequest.Request
	for range 80 {
		at := start.Add(-5 * 24 * time.Hour).Add(time.Duration(rng.IntN(100*24*3600)) * time.Second)
		r := lerequest.Request{Agency: "police", LegalBasis: "warrant", Accounts: []string{"a"}, From: at, To: at,
			Deadline: at.Add(7 * 24 * time.Hour), State: lerequest.Open, Created: at, CreatedBy: "k"}
		if closed := at.Add(time.Duration(rng.IntN(12*24*3600)) * time.Second); rng.IntN(10) < 8 && closed.Before(asOf) {
			r.State, r.Closed, r.ClosedBy = lerequest.Fulfilled, closed, "k"
			if rng.IntN(5) == 0 {
				r.State, r.Reason = lerequest.Refused, "no legal basis"
			}
		}
		r, err := reqs.CreateLERequest(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		rqs = append(rqs, r)
	}
	return les, rqs
}

func readCSV(t *testing.T, b []byte) map[string]map[string]float64 {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[2], 64)
		if err != nil {
			t.Fatalf("row %v: %v", r, err)
		}
		if out[r[0]] == nil {
			out[r[0]] = map[string]float64{}
		}
		out[r[0]][r[1]] = v
		if r[5] == "" {
			t.Errorf("%s %s: no denominator in words", r[0], r[1])
		}
	}
	return out
}

// pct is the nearest-rank percentile of ds in seconds: the value at rank
// ⌈p/100 × n⌉ of the sorted values.
func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(k, 1)-1].Seconds()
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// caseCategory is the most severe category of a case's reports.
func caseCategory(c *simCase) review.Category {
	best := review.Other
	for _, r := range c.reports {
		if slices.Index(review.Categories, r.cat) < slices.Index(review.Categories, best) {
			best = r.cat
		}
	}
	return best
}

// status is what a report of c stands at: actioned, dismissed or neither.
func (c *simCase) actioned() bool  { return c.state == review.Decided && c.verdict == review.Confirm }
func (c *simCase) dismissed() bool { return c.state == review.Decided && c.verdict == review.Dismiss }

func expect(rs []*simReport, cases map[int64]*simCase, cat *review.Category) map[string]float64 {
	m := map[string]float64{}
	var received, decided, auto, actioned, dismissed, overdue, proactive, proActioned, proDecided, found, missed int
	var waits, ages []time.Duration
	for _, r := range rs {
		if cat != nil && r.cat != *cat {
			continue
		}
		c := cases[r.caseID]
		received++
		m["received."+string(r.ch)]++
		pro := r.ch != transparency.Users && r.ch != transparency.TrustedFlaggers
		if pro {
			proactive++
		}
		wait := asOf.Sub(r.at)
		if !c.decided.IsZero() {
			decided++
			wait = c.decided.Sub(r.at)
			waits = append(waits, wait)
			if c.auto {
				auto++
			}
			if pro {
				proDecided++
			}
		} else {
			ages = append(ages, wait)
		}
		if wait > review.DefaultTargets[review.Queue(r.cat)] {
			overdue++
		}
		if c.actioned() {
			actioned++
			if pro {
				proActioned++
			}
		}
		if c.dismissed() {
			dismissed++
			if len(c.reFiled) > 0 {
				found++
			}
			if slices.ContainsFunc(c.reFiled, func(x *simReport) bool { return cases[x.caseID].actioned() }) {
				missed++
			}
		}
	}
	for _, ch := range transparency.Channels {
		m["received."+string(ch)] += 0
	}
	m["received"], m["decided"], m["undecided"] = float64(received), float64(decided), float64(received-decided)
	m["undecided.median_age"], m["undecided.oldest_age"] = pct(ages, 50), pct(ages, 100)
	m["decided_automatically"], m["actioned"], m["dismissed"] = float64(auto), float64(actioned), float64(dismissed)
	m["time_to_action.median"], m["time_to_action.p90"] = pct(waits, 50), pct(waits, 90)
	m["overdue"] = float64(overdue)
	m["proactive_share"] = ratio(proactive, received)
	m["proactive_share_of_actioned"] = ratio(proActioned, actioned)
	m["proactive_precision"] = ratio(proActioned, proDecided)
	m["found_again"], m["missed"] = float64(found), float64(missed)

	var appeals, appealsDecided, overturned int
	var appealWaits []time.Duration
	for _, c := range cases {
		if c.appealAt.IsZero() || c.appealAt.Before(start) || !c.appealAt.Before(end) || cat != nil && caseCategory(c) != *cat {
			continue
		}
		appeals++
		if c.appealed {
			appealsDecided++
			appealWaits = append(appealWaits, c.appealTo.Sub(c.appealAt))
			if c.appealBy == review.Dismiss {
				overturned++
			}
		}
	}
	m["appeals"], m["appeals.decided"], m["appeals.overturned"] = float64(appeals), float64(appealsDecided), float64(overturned)
	m["appeals.overturned_share"] = ratio(overturned, appealsDecided)
	m["appeals.time_to_decide.median"] = pct(appealWaits, 50)
	return m
}

func expectService(les []lereport.Report, rqs []lerequest.Request) map[string]float64 {
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	var sent, acked int
	var ackWaits, waits []time.Duration
	for _, r := range les {
		s := r.History[1].At // the generator's submission
		if !in(s) {
			continue
		}
		sent++
		if r.State == lereport.Acknowledged {
			acked++
			ackWaits = append(ackWaits, r.History[2].At.Sub(s))
		}
	}
	var received, answered, refused, late int
	for _, r := range rqs {
		if !in(r.Created) {
			continue
		}
		received++
		done := asOf
		if r.State != lerequest.Open {
			answered++
			done = r.Closed
			waits = append(waits, r.Closed.Sub(r.Created))
		}
		if r.State == lerequest.Refused {
			refused++
		}
		if done.After(r.Deadline) {
			late++
		}
	}
	return map[string]float64{
		"le_reports.sent": float64(sent), "le_reports.acknowledged": float64(acked),
		"le_reports.time_to_acknowledge.median": pct(ackWaits, 50),
		"data_requests.received":                float64(received), "data_requests.answered": float64(answered),
		"data_requests.refused": float64(refused), "data_requests.past_deadline": float64(late),
		"data_requests.time_to_answer.median": pct(waits, 50), "data_requests.time_to_answer.p90": pct(waits, 90),
	}
}

// checkDSA reads the committed field set (the template's, see
// docs/transparency.md) on its own and checks the export against it.
func checkDSA(t *testing.T, out []byte, rs []*simReport, cases map[int64]*simCase) {
	t.Helper()
	b, err := os.ReadFile("dsa_fields.csv")
	if err != nil {
		t.Fatal(err)
	}
	fields, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"section", "field", "type_of_illegal_content", "safeguard_category", "value"}; !slices.Equal(got[0], want) {
		t.Fatalf("DSA header %v, want %v", got[0], want)
	}
	i := 1
	for _, f := range fields[1:] {
		n := 1
		if f[2] == "yes" {
			n = len(review.Categories)
		}
		for k := range n {
			if i >= len(got) {
				t.Fatalf("DSA export ends before %s/%s", f[0], f[1])
			}
			row := got[i]
			i++
			if row[0] != f[0] || row[1] != f[1] {
				t.Fatalf("DSA row %d is %s/%s, want %s/%s", i, row[0], row[1], f[0], f[1])
			}
			if f[3] == "" {
				if row[4] != transparency.OutsideSafeguard {
					t.Errorf("%s/%s = %q, want %q", f[0], f[1], row[4], transparency.OutsideSafeguard)
				}
				continue
			}
			if _, err := strconv.ParseFloat(row[4], 64); err != nil && !strings.HasPrefix(f[3], "period.") {
				t.Errorf("%s/%s = %q, not a number", f[0], f[1], row[4])
			}
			if f[2] == "yes" && row[3] != string(review.Categories[k]) {
				t.Errorf("%s/%s row %d is for %s, want %s", f[0], f[1], k, row[3], review.Categories[k])
			}
			// Notices are the reports of users and trusted flaggers.
			if f[1] == "number_of_notices" {
				want := 0
				for _, r := range rs {
					if r.cat == review.Categories[k] && (r.ch == transparency.Users || r.ch == transparency.TrustedFlaggers) {
						want++
					}
				}
				if row[4] != strconv.Itoa(want) {
					t.Errorf("notices of %s = %s, want %d", review.Categories[k], row[4], want)
				}
			}
		}
	}
	if i != len(got) {
		t.Errorf("DSA export has %d rows past the field set", len(got)-i)
	}
	_ = cases
}
