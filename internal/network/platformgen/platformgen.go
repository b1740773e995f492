// Package platformgen makes a synthetic social platform, seeded, as network
// events with a separate ground truth, to measure network detection on data
// with known answers.
//
// The platform has ordinary accounts that post, follow and comment;
// parent-run child accounts with their relatives; planted networks in three
// styles (emoji-only talkers, heavy re-posters who follow densely and
// barely comment, and mixers of sexualised and ordinary chatter), whose
// members also behave ordinarily; and the hard negatives a detector must
// leave alone: memes re-posted by thousands, fans re-sharing an adult
// influencer's photos with "hot 🥵" comments, relatives re-posting a
// child's photo once, and sports clubs and schools whose photos parents
// share. Account ids say nothing of their role. Comment texts are at the
// level of a moderation data set: suggestive, never graphic.
package platformgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/safeguard-oss/safeguard/internal/hamming"
	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// Style is how a planted network behaves.
type Style string

// The planted network styles.
const (
	Emoji    Style = "emoji"    // talks almost only in emoji
	Reposter Style = "reposter" // re-posts heavily, follows densely, barely comments
	Mixed    Style = "mixed"    // sexualised comments among ordinary chatter
)

// Config sizes the platform; a zero count leaves that kind out. Default
// gives every kind.
type Config struct {
	Seed     uint64
	Ordinary int // ordinary adult accounts
	Children int // parent-run child accounts
	// CueLess is the share of child accounts whose bio and declared age say
	// nothing of a child: the targets a detector cannot recognise.
	CueLess float64
	// Networks are the planted networks' sizes; network i has style
	// Styles[i % len(Styles)], or emoji, reposter, mixed in turn when
	// Styles is empty.
	Networks []int
	Styles   []Style
	Memes    int // meme accounts, each posting memes re-posted by many
	// MemeReposts is how many accounts re-post each meme.
	MemeReposts int
	Influencers int // adult influencers, each with fans
	Fans        int // fans per influencer
	Clubs       int // sports clubs and schools
	Days        int // the span of the activity
}

// Default is the platform the detector was tuned on (seed 1); vary the seed
// and the sizes to measure on data it was not tuned on.
func Default(seed uint64) Config {
	return Config{
		Seed: seed, Ordinary: 4000, Children: 160, CueLess: 0.1,
		Networks: []int{5, 8, 12, 20, 30, 45},
		Memes:    8, MemeReposts: 400, Influencers: 3, Fans: 150, Clubs: 6, Days: 60,
	}
}

// Truth is what the generator planted.
type Truth struct {
	Seed     uint64         `json:"seed"`
	Networks []TruthNetwork `json:"networks"`
	// Children are all child accounts; CueLess those without a cue.
	Children []string `json:"children"`
	CueLess  []string `json:"cue_less"`
	// Negatives are the hard-negative accounts by kind: relatives,
	// meme_reposters, fans, influencers, clubs, club_parents.
	Negatives map[string][]string `json:"negatives"`
}

// TruthNetwork is one planted network.
type TruthNetwork struct {
	Name    string   `json:"name"`
	Style   Style    `json:"style"`
	Members []string `json:"members"`
	Targets []string `json:"targets"`
}

// gen is one generation's state.
type gen struct {
	cfg    Config
	rng    *rand.Rand
	start  time.Time
	span   time.Duration
	events []network.Event
	nextID int
	// ordinary accounts, for follows and chatter
	ordinary []string
	related  map[string]bool // accounts that are some family's relatives
	// every post with a time, for comments
	posts []postRef
	truth Truth
}

type postRef struct {
	id, account string
	at          time.Time
	code        hamming.Code
	hasCode     bool
}

// Generate makes the platform: its events in time order, and the truth.
func Generate(cfg Config) ([]network.Event, Truth) {
	g := &gen{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		span:  time.Duration(cfg.Days) * 24 * time.Hour,
		truth: Truth{Seed: cfg.Seed, Negatives: map[string][]string{}},
	}
	if cfg.Ordinary < 1 || cfg.Children < 1 || cfg.Days < 1 {
		panic(fmt.Sprintf("platformgen: want at least one ordinary account, one child and one day, got %d, %d, %d", cfg.Ordinary, cfg.Children, cfg.Days))
	}
	g.ordinaryAccounts()
	children := g.childAccounts()
	g.memes()
	g.influencers()
	g.clubs()
	for i, size := range cfg.Networks {
		styles := cfg.Styles
		if len(styles) == 0 {
			styles = []Style{Emoji, Reposter, Mixed}
		}
		style := styles[i%len(styles)]
		g.plant(fmt.Sprintf("planted-%d", i+1), style, size, children)
	}
	g.chatter()
	slices.SortStableFunc(g.events, func(x, y network.Event) int { return x.At.Compare(y.At) })
	return g.events, g.truth
}

// id gives a fresh id that says nothing of what it names.
func (g *gen) id(prefix string) string {
	g.nextID++
	return fmt.Sprintf("%s%07d", prefix, g.rng.IntN(9000000)+1000000) + fmt.Sprintf("%x", g.nextID)
}

func (g *gen) when() time.Time {
	return g.start.Add(time.Duration(g.rng.Int64N(int64(g.span))))
}

// after is a time after t, within the activity's span when it can be.
func (g *gen) after(t time.Time) time.Time {
	end := g.start.Add(g.span)
	if !t.Before(end) {
		return t.Add(time.Minute)
	}
	return t.Add(time.Duration(g.rng.Int64N(int64(end.Sub(t)))) + time.Second)
}

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *gen) account(bio string, age int) string {
	id := g.id("u")
	g.events = append(g.events, network.Event{Type: "account", ID: id, At: g.start.Add(-time.Duration(g.rng.IntN(1000)+1) * time.Hour), Bio: bio, DeclaredAge: age})
	return id
}

func (g *gen) randomCode() hamming.Code {
	return hamming.Code{g.rng.Uint64(), g.rng.Uint64(), g.rng.Uint64(), g.rng.Uint64()}
}

// noisy flips up to maxBits random bits, as re-encoding and resizing do to
// a re-posted image's PDQ hash.
func (g *gen) noisy(c hamming.Code, maxBits int) hamming.Code {
	for range g.rng.IntN(maxBits + 1) {
		b := g.rng.IntN(256)
		c[b/64] ^= 1 << (b % 64)
	}
	return c
}

func (g *gen) post(account string, at time.Time, code hamming.Code, caption string) postRef {
	p := postRef{id: g.id("p"), account: account, at: at, code: code, hasCode: true}
	g.events = append(g.events, network.Event{Type: "post", ID: p.id, Account: account, At: at, PDQ: pdq.FromWords(code).String(), Caption: caption})
	g.posts = append(g.posts, p)
	return p
}

func (g *gen) textPost(account string, at time.Time, caption string) {
	p := postRef{id: g.id("p"), account: account, at: at}
	g.events = append(g.events, network.Event{Type: "post", ID: p.id, Account: account, At: at, Caption: caption})
	g.posts = append(g.posts, p)
}

// repost re-posts p's image, later, with re-encoding noise.
func (g *gen) repost(account string, p postRef, caption string) postRef {
	return g.post(account, g.after(p.at), g.noisy(p.code, 12), caption)
}

func (g *gen) comment(account string, p postRef, text string) {
	g.events = append(g.events, network.Event{Type: "comment", ID: g.id("c"), Account: account, Post: p.id, At: g.after(p.at), Text: text})
}

func (g *gen) follow(from, to string) {
	if from != to {
		g.events = append(g.events, network.Event{Type: "follow", Account: from, Target: to, At: g.when()})
	}
}
