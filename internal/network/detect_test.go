package network

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/hamming"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// scene builds activity by hand for the detector's tests.
type scene struct {
	a   Activity
	rng *rand.Rand
	t   time.Time
	n   int
}

func newScene() *scene {
	return &scene{rng: rand.New(rand.NewPCG(7, 8)), t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
}

func (s *scene) add(e Event) {
	s.n++
	s.t = s.t.Add(time.Minute)
	e.At = s.t
	if err := e.Check(); err != nil {
		panic(err)
	}
	s.a.Add(e)
}

func (s *scene) account(id, bio string, age int) {
	s.add(Event{Type: "account", ID: id, Bio: bio, DeclaredAge: age})
}

// photo posts a new image and returns its post id and code.
func (s *scene) photo(account string) (string, hamming.Code) {
	c := hamming.Code{s.rng.Uint64(), s.rng.Uint64(), s.rng.Uint64(), s.rng.Uint64()}
	return s.repost(account, c), c
}

// repost posts c with a few bits flipped, as re-encoding does.
func (s *scene) repost(account string, c hamming.Code) string {
	for range s.rng.IntN(8) {
		b := s.rng.IntN(256)
		c[b/64] ^= 1 << (b % 64)
	}
	id := fmt.Sprintf("post%d", s.n)
	s.add(Event{Type: "post", ID: id, Account: account, PDQ: pdq.FromWords(c).String()})
	return id
}

func (s *scene) comment(account, post, text string) {
	s.add(Event{Type: "comment", ID: fmt.Sprintf("c%d", s.n), Account: account, Post: post, Text: text})
}

func (s *scene) follow(from, to string) { s.add(Event{Type: "follow", Account: from, Target: to}) }

// ring plants accounts that re-post and comment on the photos of children,
// and follow each other.
func (s *scene) ring(members []string, photos []hamming.Code, comment string) {
	for i, m := range members {
		s.account(m, "just here for fun", 0)
		for _, n := range members[:i] {
			s.follow(m, n)
			s.follow(n, m)
		}
	}
	for i, m := range members {
		for k := range 3 {
			p := s.repost(m, photos[(i+k)%len(photos)])
			if comment != "" {
				s.comment(members[(i+1)%len(members)], p, comment)
			}
		}
	}
}

func (s *scene) children(n int) (ids []string, photos []hamming.Code, posts []string) {
	for i := range n {
		id := fmt.Sprintf("kid%d", i)
		s.account(id, "dancer 💃 account run by mum", 0)
		ids = append(ids, id)
		for range 2 {
			p, c := s.photo(id)
			photos, posts = append(photos, c), append(posts, p)
		}
	}
	return ids, photos, posts
}

func members(n Network) []string {
	var out []string
	for _, m := range n.Members {
		out = append(out, m.Account)
	}
	return out
}

func TestDetectRing(t *testing.T) {
	s := newScene()
	kids, photos, posts := s.children(3)
	ring := []string{"m1", "m2", "m3", "m4"}
	s.ring(ring, photos, "🥵🥵")
	var d Detector
	nets := d.Detect(&s.a)
	if len(nets) != 1 {
		t.Fatalf("%d networks, want 1: %+v", len(nets), nets)
	}
	n := nets[0]
	if got := members(n); !slices.Equal(got, ring) {
		t.Errorf("members %v, want %v", got, ring)
	}
	var targets []string
	for _, tg := range n.Targets {
		targets = append(targets, tg.Account)
		if tg.Cue == "" || len(tg.Images) == 0 {
			t.Errorf("target %+v without its cue or images", tg)
		}
	}
	if !slices.Equal(targets, kids) {
		t.Errorf("targets %v, want %v", targets, kids)
	}
	if n.Score < 0.5 || len(n.Reasons) == 0 {
		t.Errorf("score %.2f, reasons %v", n.Score, n.Reasons)
	}
	for _, m := range n.Members {
		if len(m.Reposts) != 3 || len(m.Comments) != 3 || len(m.Follows) != 3 || len(m.Reasons) == 0 {
			t.Errorf("member %s: %d reposts, %d comments, %d follows, reasons %v; want 3, 3, 3", m.Account, len(m.Reposts), len(m.Comments), len(m.Follows), m.Reasons)
		}
		for _, r := range m.Reposts {
			if !slices.Contains(posts, r.Origin) || !slices.Contains(kids, r.Target) {
				t.Errorf("repost %+v: origin is not the child's post", r)
			}
		}
	}
	for _, o := range n.Origins {
		if !slices.Contains(posts, o) {
			t.Errorf("origin %s is not a child's post", o)
		}
	}
}

// TestDetectGrows checks that a network keeps its id when new members join.
func TestDetectGrows(t *testing.T) {
	s := newScene()
	_, photos, _ := s.children(3)
	s.ring([]string{"m1", "m2", "m3"}, photos, "😏")
	var d Detector
	first := d.Detect(&s.a)
	s.ring([]string{"m4", "m5"}, photos, "😏")
	for _, m := range []string{"m4", "m5"} {
		for _, n := range []string{"m1", "m2", "m3"} {
			s.follow(m, n)
			s.follow(n, m)
		}
	}
	second := d.Detect(&s.a)
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("%d then %d networks, want 1 and 1", len(first), len(second))
	}
	if first[0].ID != second[0].ID {
		t.Errorf("id changed from %s to %s as the network grew", first[0].ID, second[0].ID)
	}
	if got := members(second[0]); len(got) != 5 {
		t.Errorf("grown network has members %v, want m1..m5", got)
	}
}

// TestChildrenAreNeverMembers checks that a child who re-posts and comments
// like a member is at most a target.
func TestChildrenAreNeverMembers(t *testing.T) {
	s := newScene()
	_, photos, _ := s.children(3)
	s.ring([]string{"m1", "m2", "m3"}, photos, "🥵")
	s.account("kid9", "", 12)
	for _, c := range photos {
		p := s.repost("kid9", c)
		s.comment("kid9", p, "🥵")
	}
	s.follow("kid9", "m1")
	s.follow("m1", "kid9")
	var d Detector
	for _, n := range d.Detect(&s.a) {
		if slices.Contains(members(n), "kid9") {
			t.Errorf("child kid9 is a member of %s", n.ID)
		}
	}
}

// TestAdultOriginsAreNotTargets checks that the same behaviour around an
// adult's photos is no network: fans are not a ring.
func TestAdultOriginsAreNotTargets(t *testing.T) {
	s := newScene()
	s.account("model", "fitness | 24 y/o", 24)
	var photos []hamming.Code
	for range 6 {
		_, c := s.photo("model")
		photos = append(photos, c)
	}
	s.ring([]string{"f1", "f2", "f3", "f4"}, photos, "hot 🥵")
	s.none(t, "fans of an adult")
}

// none checks that the scene holds no network.
func (s *scene) none(t *testing.T, what string) {
	t.Helper()
	var d Detector
	if nets := d.Detect(&s.a); len(nets) > 0 {
		t.Errorf("%s make a network: %v", what, nets[0].Reasons)
	}
}

// TestFollowedBackIsFamily checks that accounts a child's account follows
// back are taken as family on that child's images.
func TestFollowedBackIsFamily(t *testing.T) {
	s := newScene()
	kids, photos, _ := s.children(3)
	family := []string{"gran", "aunt", "uncle"}
	for _, f := range family {
		for _, k := range kids {
			s.follow(k, f)
		}
	}
	s.ring(family, photos, "")
	s.none(t, "relatives the children follow")
}

// TestEarliestIsOrigin checks that the first poster of an image is its
// origin, by time, not by arrival.
func TestEarliestIsOrigin(t *testing.T) {
	s := newScene()
	_, photos, posts := s.children(3)
	ring := []string{"m1", "m2", "m3"}
	s.ring(ring, photos, "🥵")
	// A copy by a member dated before the child's post arrives last: the
	// member is then the image's origin, an adult, so the child's post is
	// no origin.
	code := photos[0]
	s.a.Add(Event{Type: "post", ID: "early", Account: "m1", At: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), PDQ: pdq.FromWords(code).String()})
	var d Detector
	for _, n := range d.Detect(&s.a) {
		for _, o := range n.Origins {
			if o == posts[0] {
				t.Errorf("post %s is an origin though m1 posted its image earlier", posts[0])
			}
		}
	}
}

// ages records the child ages the detector passes to the scorer.
type ages struct {
	Lexicon
	seen map[int]bool
}

func (a *ages) Sexualised(text string, childAge int) float64 {
	a.seen[childAge] = true
	return a.Lexicon.Sexualised(text, childAge)
}

// A network that only comments, beneath the children's own photos that
// nobody re-posted, is found; the scorer is told each child's age as the
// bio states it, or UnknownChildAge for an account run by a parent.
func TestDetectCommentsOnOriginals(t *testing.T) {
	s := newScene()
	bios := []string{"Lily 9 y/o", "account run by mum", "dancer 11yo", "gymnastics | mum-run"}
	var photos []string
	for i, bio := range bios {
		kid := fmt.Sprintf("kid%d", i)
		s.account(kid, bio, 0)
		for range 2 {
			p, _ := s.photo(kid)
			photos = append(photos, p)
		}
	}
	members := []string{"m1", "m2", "m3", "m4", "m5"}
	for i, m := range members {
		s.account(m, "", 0)
		for _, n := range members[:i] {
			s.follow(m, n)
		}
		for k := range 4 {
			s.comment(m, photos[(i*3+k)%len(photos)], "🥵🥵")
		}
	}
	sc := &ages{seen: map[int]bool{}}
	nets := (&Detector{Scorer: sc}).Detect(&s.a)
	if len(nets) != 1 || len(nets[0].Members) != len(members) {
		t.Fatalf("want one network of %d members, got %+v", len(members), nets)
	}
	if len(nets[0].Targets) != len(bios) {
		t.Errorf("targets %+v, want the %d children", nets[0].Targets, len(bios))
	}
	for _, want := range []int{9, 11, UnknownChildAge} {
		if !sc.seen[want] {
			t.Errorf("scorer never told age %d (told %v)", want, sc.seen)
		}
	}
	if sc.seen[0] {
		t.Errorf("scorer told age 0 for a child")
	}
}

// noAge posts photos of n accounts whose bios say nothing of age.
func (s *scene) noAge(n int) (ids, posts []string) {
	for i := range n {
		id := fmt.Sprintf("quiet%d", i)
		s.account(id, "ballet 🩰 | singing", 0)
		ids = append(ids, id)
		for range 2 {
			p, _ := s.photo(id)
			posts = append(posts, p)
		}
	}
	return ids, posts
}

// A child whose account says nothing of age is taken for a child's when
// two accounts speak of her as one beneath her photos; one voice is not
// enough.
func TestYouthVoicesMakeATarget(t *testing.T) {
	for _, voices := range []int{1, 2} {
		s := newScene()
		_, posts := s.noAge(1)
		members := []string{"m1", "m2", "m3", "m4"}
		for i, m := range members {
			s.account(m, "", 0)
			for _, n := range members[:i] {
				s.follow(m, n)
			}
			s.comment(m, posts[i%len(posts)], "🥵🥵")
		}
		s.account("gran", "", 0)
		s.comment("gran", posts[0], "our little star 🌟")
		if voices == 2 {
			s.comment("m1", posts[1], "so mature for her age")
		}
		nets := (&Detector{}).Detect(&s.a)
		if voices == 1 && len(nets) != 0 {
			t.Errorf("one voice made a network: %+v", nets)
		}
		if voices == 2 {
			if len(nets) != 1 || len(nets[0].Members) != len(members) || len(nets[0].Targets) != 1 || nets[0].Targets[0].Account != "quiet0" {
				t.Fatalf("two voices: want one network of %d members targeting quiet0, got %+v", len(members), nets)
			}
			if cue := nets[0].Targets[0].Cue; !strings.Contains(cue, "little star") {
				t.Errorf("target's cue %q does not say what was said", cue)
			}
		}
	}
}

// A network that sexualises children whose age is stated also sexualises
// a child whose account says nothing: she is its target too, and the
// members who only comment beneath her photos are members.
func TestSexualisedAlike(t *testing.T) {
	s := newScene()
	_, _, kidPosts := s.children(2)
	_, quietPosts := s.noAge(1)
	members := []string{"m1", "m2", "m3", "m4", "m5"}
	for i, m := range members {
		s.account(m, "", 0)
		for _, n := range members[:i] {
			s.follow(m, n)
		}
		if i < 3 {
			s.comment(m, kidPosts[i%len(kidPosts)], "🥵🥵")
		}
		s.comment(m, quietPosts[i%len(quietPosts)], "👅🥵")
	}
	nets := (&Detector{}).Detect(&s.a)
	if len(nets) != 1 || len(nets[0].Members) != len(members) {
		t.Fatalf("want one network of all %d members, got %+v", len(members), nets)
	}
	var found bool
	for _, tg := range nets[0].Targets {
		found = found || tg.Account == "quiet0"
	}
	if !found {
		t.Errorf("quiet0 is not a target: %+v", nets[0].Targets)
	}
}

// An adult's photos that state no age draw "hot" comments from many fans,
// two of whom also sexualise children: the adult is no target, and the
// fans no network.
func TestSexualisedAlikeNeedsMost(t *testing.T) {
	s := newScene()
	_, _, kidPosts := s.children(2)
	s.account("star", "model 📸 | collabs by email", 0)
	var star []string
	for range 4 {
		p, _ := s.photo("star")
		star = append(star, p)
	}
	ring := []string{"m1", "m2", "m3"}
	for i, m := range ring {
		s.account(m, "", 0)
		for _, n := range ring[:i] {
			s.follow(m, n)
		}
		s.comment(m, kidPosts[i%len(kidPosts)], "🥵🥵")
		s.comment(m, star[i%len(star)], "hot 🥵")
	}
	fans := make([]string, 12)
	for i := range fans {
		fans[i] = fmt.Sprintf("fan%d", i)
		s.account(fans[i], "", 0)
		for _, n := range fans[:i] {
			s.follow(fans[i], n)
		}
		s.comment(fans[i], star[i%len(star)], "so hot 🥵")
	}
	for _, n := range (&Detector{}).Detect(&s.a) {
		for _, tg := range n.Targets {
			if tg.Account == "star" {
				t.Errorf("the adult is a target: %+v", tg)
			}
		}
		for _, m := range n.Members {
			if strings.HasPrefix(m.Account, "fan") {
				t.Errorf("fan %s is a member", m.Account)
			}
		}
	}
}
