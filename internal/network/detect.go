package network

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/safeguard-oss/safeguard/internal/hamming"
)

// CommentScorer says how strongly a comment sexualises its subject, from 0
// (not at all) to 1. The text-signal scorer (internal/textrisk) fills it in
// production; Lexicon is a minimal stand-in.
type CommentScorer interface {
	Sexualised(text string) float64
}

// Detector finds networks in an Activity. The zero value uses the defaults
// below and Lexicon as its comment scorer.
type Detector struct {
	Scorer CommentScorer
	// Radius is the PDQ distance within which two images are near-duplicates
	// (default 31, the matcher's).
	Radius int
	// SexualisedAt is the scorer's score from which a comment counts
	// as sexualised (default 0.5).
	SexualisedAt float64
	// MinMembers is the smallest network reported (default 3): fewer
	// accounts are a matter for ordinary reports, not a network case.
	MinMembers int
	// MinScore is the network score from which a network is reported
	// (default 0.5).
	MinScore float64
}

// Network is a group of accounts that re-share and sexualise images of
// children, with the children as targets.
type Network struct {
	// ID is derived from the network's earliest stolen image, so it stays
	// the same while the network grows around that image; a case opened
	// for a network finds it again by ID (or, after a split or merge, by
	// the overlap of Origins).
	ID      string
	Score   float64
	Reasons []string
	Members []Member
	Targets []Target
	// Origins are the post ids of the children's images the members
	// re-share or comment on, earliest first.
	Origins []string
}

// Member is an account to act on, with the evidence that makes it one.
type Member struct {
	Account  string
	Reposts  []Repost
	Comments []Comment
	// Follows are the other members this account follows.
	Follows []string
	Reasons []string
}

// Repost is a member's post of a near-duplicate of a child's image.
type Repost struct {
	Post, Origin, Target string
	Distance             int
	At                   time.Time
}

// Comment is a member's sexualised comment on a child's image or a repost
// of it.
type Comment struct {
	ID, Post, Target, Text string
	Score                  float64
	At                     time.Time
}

// Target is a child whose images the network re-shares: a victim to
// protect, never a member.
type Target struct {
	Account string
	Cue     string // why the account looks like a child's
	Images  []string
}

func (d *Detector) defaults() Detector {
	c := *d
	if c.Scorer == nil {
		c.Scorer = Lexicon{}
	}
	if c.Radius == 0 {
		c.Radius = 31
	}
	if c.SexualisedAt == 0 {
		c.SexualisedAt = 0.5
	}
	if c.MinMembers == 0 {
		c.MinMembers = 3
	}
	if c.MinScore == 0 {
		c.MinScore = 0.5
	}
	return c
}

// cluster is a set of near-duplicate posts; posts[0] is the origin, the
// earliest.
type cluster struct {
	posts []int32
	dist  []int // each post's distance from the origin
}

// engagement is what one account did to children's images.
type engagement struct {
	reposts  []int32 // post indices
	comments []int32 // comment indices
	score    []float64
}

// run holds one detection's working state.
type run struct {
	Detector
	a        *Activity
	cue      []string // per account, "" when not a child's; cueKnown says computed
	cueKnown []bool
	clusters []cluster
	postClus []int32 // per post: its child cluster, or -1
	engaged  map[int32]*engagement
}

// Detect finds the networks in a, strongest first.
func (d *Detector) Detect(a *Activity) []Network {
	r := &run{Detector: d.defaults(), a: a}
	r.cue = make([]string, len(a.accounts))
	r.cueKnown = make([]bool, len(a.accounts))
	r.childClusters()
	r.engagements()
	suspects := r.suspects()
	g := r.graph(suspects)
	comm := louvain(g)
	groups := map[int32][]int32{}
	for i, c := range comm {
		groups[c] = append(groups[c], suspects[i])
	}
	var out []Network
	for _, c := range slices.Sorted(maps.Keys(groups)) {
		if n, ok := r.network(groups[c]); ok {
			out = append(out, n)
		}
	}
	slices.SortStableFunc(out, func(x, y Network) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.ID, y.ID))
	})
	return out
}

func (r *run) childCue(acc int32) string {
	if !r.cueKnown[acc] {
		ac := &r.a.accounts[acc]
		r.cue[acc], r.cueKnown[acc] = childCue(ac.age, ac.bio), true
	}
	return r.cue[acc]
}

// childClusters groups posts into near-duplicate clusters and keeps those
// whose origin is a child's account and that another account re-posted or
// commented on. Posts are taken earliest first; each post not yet in a
// cluster starts one with every unclustered post within Radius of it. So the
// origin is the earliest poster, a search runs once per distinct image
// rather than once per post, and a meme re-posted by thousands costs one
// search.
func (r *run) childClusters() {
	a := r.a
	var order []int32
	for i := range a.posts {
		if p := &a.posts[i]; p.seen && p.hasCode {
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(x, y int32) int {
		px, py := &a.posts[x], &a.posts[y]
		return cmp.Or(cmp.Compare(px.at, py.at), cmp.Compare(px.id, py.id))
	})
	ids := make([]uint64, len(order))
	codes := make([]hamming.Code, len(order))
	for k, p := range order {
		ids[k], codes[k] = uint64(k), a.posts[p].code
	}
	idx := hamming.Build(ids, codes)
	done := make([]bool, len(order))
	r.postClus = make([]int32, len(a.posts))
	for i := range r.postClus {
		r.postClus[i] = -1
	}
	var res []hamming.Result
	for k, p := range order {
		if done[k] {
			continue
		}
		res = idx.Search(codes[k], r.Radius, res[:0])
		child := r.childCue(a.posts[p].account) != ""
		var c cluster
		if child {
			c = cluster{posts: []int32{p}, dist: []int{0}}
		}
		done[k] = true
		slices.SortFunc(res, func(x, y hamming.Result) int { return cmp.Compare(x.ID, y.ID) })
		for _, m := range res {
			if done[m.ID] {
				continue
			}
			done[m.ID] = true
			if child {
				c.posts = append(c.posts, order[m.ID])
				c.dist = append(c.dist, m.Distance)
			}
		}
		if child {
			ci := int32(len(r.clusters))
			for _, q := range c.posts {
				r.postClus[q] = ci
			}
			r.clusters = append(r.clusters, c)
		}
	}
}

// engagements records, per account, its reposts of children's images and
// its sexualised comments on them. Children's accounts are left out: a
// child re-sharing a friend's photo is not an offender, and targets are
// never members.
func (r *run) engagements() {
	a := r.a
	r.engaged = map[int32]*engagement{}
	get := func(acc int32) *engagement {
		e := r.engaged[acc]
		if e == nil {
			e = &engagement{}
			r.engaged[acc] = e
		}
		return e
	}
	for ci := range r.clusters {
		c := &r.clusters[ci]
		origin := a.posts[c.posts[0]].account
		for _, p := range c.posts[1:] {
			acc := a.posts[p].account
			if acc != origin && r.childCue(acc) == "" {
				get(acc).reposts = append(get(acc).reposts, p)
			}
		}
	}
	for i := range a.comments {
		cm := &a.comments[i]
		ci := r.postClus[cm.post]
		if ci < 0 {
			continue
		}
		origin := a.posts[r.clusters[ci].posts[0]].account
		if cm.account == origin || r.childCue(cm.account) != "" {
			continue
		}
		if s := r.Scorer.Sexualised(cm.text); s >= r.SexualisedAt {
			e := get(cm.account)
			e.comments = append(e.comments, int32(i))
			e.score = append(e.score, s)
		}
	}
}

// suspects lists the engaged accounts in index order.
func (r *run) suspects() []int32 {
	s := slices.Collect(maps.Keys(r.engaged))
	slices.Sort(s)
	return s
}

// coLinks bounds the edges a shared image adds: each account that engaged
// with it is linked to at most this many of those who engaged before it, so
// a child's photo re-posted by a thousand accounts adds thousands of edges,
// not half a million.
const coLinks = 16

// graph links suspects that follow each other, comment on each other's
// posts, or engaged with the same child's image; each tie adds weight 1.
func (r *run) graph(suspects []int32) *graph {
	a := r.a
	node := make(map[int32]int32, len(suspects))
	for i, s := range suspects {
		node[s] = int32(i)
	}
	g := newGraph(len(suspects))
	for _, f := range a.follows {
		i, ok1 := node[f.from]
		j, ok2 := node[f.to]
		if ok1 && ok2 {
			g.add(i, j, 1)
		}
	}
	for i := range a.comments {
		cm := &a.comments[i]
		p := &a.posts[cm.post]
		if p.account < 0 || p.account == cm.account {
			continue
		}
		ci, ok1 := node[cm.account]
		cj, ok2 := node[p.account]
		if ok1 && ok2 {
			g.add(ci, cj, 1)
		}
	}
	per := make([][]int32, len(r.clusters))
	for _, s := range suspects {
		e := r.engaged[s]
		seen := map[int32]bool{}
		for _, p := range e.reposts {
			seen[r.postClus[p]] = true
		}
		for _, c := range e.comments {
			seen[r.postClus[a.comments[c].post]] = true
		}
		for c := range seen {
			per[c] = append(per[c], node[s])
		}
	}
	for _, ns := range per {
		slices.Sort(ns)
		for k, n := range ns {
			for _, m := range ns[max(0, k-coLinks):k] {
				g.add(n, m, 1)
			}
		}
	}
	g.compact()
	return g
}

// network judges one community: which of its accounts have evidence of
// their own, which children they target, and how strong the whole is.
func (r *run) network(accs []int32) (Network, bool) {
	a := r.a
	in := map[int32]bool{}
	for _, acc := range accs {
		in[acc] = true
	}
	follows := map[int32][]int32{}
	for _, f := range a.follows {
		if in[f.from] && in[f.to] {
			follows[f.from] = append(follows[f.from], f.to)
			follows[f.to] = append(follows[f.to], -1-f.from) // followed by
		}
	}
	// An account is a member on evidence of its own: a sexualised comment on
	// a child's image, or three re-posts of children's images, or two and
	// follow ties to two others in the community. One or two re-posts alone
	// are what relatives do.
	var members []int32
	for _, acc := range accs {
		e := r.engaged[acc]
		if len(e.comments) > 0 || len(e.reposts) >= 3 || (len(e.reposts) == 2 && len(follows[acc]) >= 2) {
			members = append(members, acc)
		}
	}
	if len(members) < r.MinMembers {
		return Network{}, false
	}
	isMember := map[int32]bool{}
	for _, m := range members {
		isMember[m] = true
	}
	var nt Network
	targets := map[int32]*Target{}
	origins := map[int32]bool{}
	touch := func(ci int32) string {
		c := &r.clusters[ci]
		op := &a.posts[c.posts[0]]
		t := targets[op.account]
		if t == nil {
			t = &Target{Account: a.accounts[op.account].id, Cue: r.childCue(op.account)}
			targets[op.account] = t
		}
		if !origins[ci] {
			origins[ci] = true
			t.Images = append(t.Images, op.id)
		}
		return t.Account
	}
	var reposts, comments, ties int
	for _, acc := range members {
		e := r.engaged[acc]
		m := Member{Account: a.accounts[acc].id}
		for _, p := range e.reposts {
			ci := r.postClus[p]
			c := &r.clusters[ci]
			origin := a.posts[c.posts[0]].id
			d := c.dist[slices.Index(c.posts, p)]
			m.Reposts = append(m.Reposts, Repost{Post: a.posts[p].id, Origin: origin, Target: touch(ci), Distance: d, At: time.Unix(0, a.posts[p].at).UTC()})
		}
		for k, ix := range e.comments {
			cm := &a.comments[ix]
			m.Comments = append(m.Comments, Comment{ID: cm.id, Post: a.posts[cm.post].id, Target: touch(r.postClus[cm.post]), Text: cm.text, Score: e.score[k], At: time.Unix(0, cm.at).UTC()})
		}
		for _, f := range follows[acc] {
			if f >= 0 && isMember[f] {
				m.Follows = append(m.Follows, a.accounts[f].id)
				ties++
			}
		}
		slices.Sort(m.Follows)
		reposts += len(m.Reposts)
		comments += len(m.Comments)
		m.Reasons = memberReasons(m)
		nt.Members = append(nt.Members, m)
	}
	n := len(members)
	density := float64(ties) / float64(n*(n-1))
	nt.Score, nt.Reasons = score(len(targets), n, reposts, comments, density)
	if nt.Score < r.MinScore {
		return Network{}, false
	}
	for _, t := range targets {
		nt.Targets = append(nt.Targets, *t)
	}
	slices.SortFunc(nt.Targets, func(x, y Target) int { return cmp.Compare(x.Account, y.Account) })
	oc := slices.Collect(maps.Keys(origins))
	slices.SortFunc(oc, func(x, y int32) int {
		px, py := &a.posts[r.clusters[x].posts[0]], &a.posts[r.clusters[y].posts[0]]
		return cmp.Or(cmp.Compare(px.at, py.at), cmp.Compare(px.id, py.id))
	})
	for _, ci := range oc {
		nt.Origins = append(nt.Origins, a.posts[r.clusters[ci].posts[0]].id)
	}
	sum := sha256.Sum256([]byte(nt.Origins[0]))
	nt.ID = "net-" + hex.EncodeToString(sum[:6])
	slices.SortFunc(nt.Members, func(x, y Member) int { return cmp.Compare(x.Account, y.Account) })
	return nt, true
}

func memberReasons(m Member) []string {
	var rs []string
	if n := len(m.Reposts); n > 0 {
		rs = append(rs, fmt.Sprintf("re-posted %d image(s) of children", n))
	}
	if n := len(m.Comments); n > 0 {
		rs = append(rs, fmt.Sprintf("%d sexualised comment(s) on children's images", n))
	}
	if n := len(m.Follows); n > 0 {
		rs = append(rs, fmt.Sprintf("follows %d other member(s)", n))
	}
	return rs
}

// score weighs a community's evidence. How many children it targets counts
// most, since a family re-sharing one child's photos is the commonest
// innocent pattern; then sexualised comments per member, re-posts per
// member and how densely members follow each other. Without sexualised
// comments a network needs three or more children to reach 0.5.
func score(targets, members, reposts, comments int, density float64) (float64, []string) {
	var s float64
	var rs []string
	switch {
	case targets >= 3:
		s += 0.3
	case targets == 2:
		s += 0.2
	default:
		s += 0.1
	}
	rs = append(rs, fmt.Sprintf("%d members share or comment on images of %d children", members, targets))
	if comments > 0 {
		s += min(0.4, 0.4*float64(comments)/float64(members))
		rs = append(rs, fmt.Sprintf("%d sexualised comments on those images", comments))
	}
	if reposts > 0 {
		s += min(0.15, 0.15*float64(reposts)/float64(members))
		rs = append(rs, fmt.Sprintf("%d re-posts of children's images", reposts))
	}
	if density > 0 {
		s += min(0.15, density)
		rs = append(rs, fmt.Sprintf("members follow each other (density %.2f)", density))
	}
	return min(1, s), rs
}
