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

// CommentScorer says how strongly a comment under a child's image
// sexualises the child, from 0 (not at all) to 1; childAge is the child's
// age as the detector knows it: declared, else stated in the bio ("9
// y/o"), else UnknownChildAge for a child whose account states no age
// (one run by a parent). It is never 0 or adult, since the comment is on
// an image whose origin the detector took for a child's. The text-signal scorer (internal/textrisk)
// fills it in production; Lexicon is a minimal stand-in.
type CommentScorer interface {
	Sexualised(text string, childAge int) float64
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
	ID      string   `json:"id"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons"`
	Members []Member `json:"members"`
	Targets []Target `json:"targets"`
	// Origins are the post ids of the children's images the members
	// re-share or comment on, earliest first.
	Origins []string `json:"origins"`
}

// Member is an account to act on, with the evidence that makes it one.
type Member struct {
	Account  string    `json:"account"`
	Reposts  []Repost  `json:"reposts,omitempty"`
	Comments []Comment `json:"comments,omitempty"`
	// Follows are the other members this account follows.
	Follows []string `json:"follows,omitempty"`
	Reasons []string `json:"reasons"`
}

// Repost is a member's post of a near-duplicate of a child's image.
type Repost struct {
	Post     string    `json:"post"`
	Origin   string    `json:"origin"`
	Target   string    `json:"target"`
	Distance int       `json:"distance"`
	At       time.Time `json:"at"`
}

// Comment is a member's sexualised comment on a child's image or a repost
// of it.
type Comment struct {
	ID     string    `json:"id"`
	Post   string    `json:"post"`
	Target string    `json:"target"`
	Text   string    `json:"text"`
	Score  float64   `json:"score"`
	At     time.Time `json:"at"`
}

// Target is a child whose images the network re-shares: a victim to
// protect, never a member.
type Target struct {
	Account string   `json:"account"`
	Cue     string   `json:"cue"` // why the account looks like a child's
	Images  []string `json:"images"`
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
	child bool  // the origin's account looks like a child's
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
	postClus []int32 // per post: its cluster, or -1
	engaged  map[int32]*engagement
}

// Detect finds the networks in a, strongest first.
func (d *Detector) Detect(a *Activity) []Network {
	r := &run{Detector: d.defaults(), a: a}
	r.cue = make([]string, len(a.accounts))
	r.cueKnown = make([]bool, len(a.accounts))
	r.cluster()
	r.engagements()
	if r.sexualisedAlike() {
		r.engagements()
	}
	suspects := r.suspects()
	g, links := r.graph(suspects)
	comm := louvain(g)
	r.joinSmall(g, comm)
	groups := map[int32][]int32{}
	for i, c := range comm {
		groups[c] = append(groups[c], suspects[i])
	}
	ties := map[int32][]tie{}
	for _, t := range links {
		if c := comm[t.from]; c == comm[t.to] {
			ties[c] = append(ties[c], tie{suspects[t.from], suspects[t.to], t.comment})
		}
	}
	var out []Network
	for _, c := range slices.Sorted(maps.Keys(groups)) {
		if n, ok := r.network(groups[c], ties[c]); ok {
			out = append(out, n)
		}
	}
	slices.SortStableFunc(out, func(x, y Network) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.ID, y.ID))
	})
	return out
}

func (r *run) statedAdult(acc int32) bool {
	ac := &r.a.accounts[acc]
	return statedAdult(ac.age, ac.bio)
}

func (r *run) childCue(acc int32) string {
	if !r.cueKnown[acc] {
		ac := &r.a.accounts[acc]
		r.cue[acc], r.cueKnown[acc] = childCue(ac.age, ac.bio), true
	}
	return r.cue[acc]
}

// cluster groups posts into near-duplicate clusters of two posts or more.
// Posts are taken earliest first; each post not yet in a cluster starts one
// with every unclustered post within Radius of it. So the origin is the
// earliest poster, and a search runs once per distinct image rather than
// once per post: a meme re-posted by thousands costs one search.
func (r *run) cluster() {
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
	var all []cluster
	for k, p := range order {
		if done[k] {
			continue
		}
		done[k] = true
		res = idx.Search(codes[k], r.Radius, res[:0])
		slices.SortFunc(res, func(x, y hamming.Result) int { return cmp.Compare(x.ID, y.ID) })
		c := cluster{posts: []int32{p}, dist: []int{0}}
		for _, m := range res {
			if !done[m.ID] {
				done[m.ID] = true
				c.posts = append(c.posts, order[m.ID])
				c.dist = append(c.dist, m.Distance)
			}
		}
		// A child's image nobody re-posted is kept as a cluster of one:
		// the comments beneath the child's own post are the commonest
		// sexualised ones, and a network comments there as much as under
		// its copies.
		all = append(all, c)
	}
	r.youthVoices(all)
	// Every image is kept, a cluster of one too: an account that states no
	// age may yet be taken for a child's (sexualisedAlike), and then the
	// comments beneath its own photos count.
	for _, c := range all {
		c.child = r.childCue(a.posts[c.posts[0]].account) != ""
		ci := int32(len(r.clusters))
		for _, q := range c.posts {
			r.postClus[q] = ci
		}
		r.clusters = append(r.clusters, c)
	}
}

// sexualisedAlike takes for a child's an account that states no age whose
// images draw sexualised comments mostly from accounts that sexualise
// children's images: at least minVoices of them, and at least half of all
// who comment so beneath its images. A network comments the same way under
// a child whose account says nothing of age; an adult's photos draw such
// comments from many who never go near a child's, so the share keeps
// an influencer's fans clear even when a few network members are among
// them. It reports whether it took any account for a child's; the caller
// then counts the engagement with its images.
func (r *run) sexualisedAlike() bool {
	a := r.a
	suspect := func(acc int32) bool { e := r.engaged[acc]; return e != nil && len(e.comments) > 0 }
	// Candidates first, from suspects' comments only, so that the many
	// ordinary comments are scored only beneath a candidate's images.
	candidate := map[int32]bool{}
	for i := range a.comments {
		cm := &a.comments[i]
		if !suspect(cm.account) {
			continue
		}
		if origin, ok := r.unstated(cm); ok && !candidate[origin] &&
			r.Scorer.Sexualised(cm.text, UnknownChildAge) >= r.SexualisedAt {
			candidate[origin] = true
		}
	}
	if len(candidate) == 0 {
		return false
	}
	from, all := map[int32]map[int32]bool{}, map[int32]map[int32]bool{}
	add := func(m map[int32]map[int32]bool, k, v int32) {
		if m[k] == nil {
			m[k] = map[int32]bool{}
		}
		m[k][v] = true
	}
	for i := range a.comments {
		cm := &a.comments[i]
		origin, ok := r.unstated(cm)
		if !ok || !candidate[origin] || r.Scorer.Sexualised(cm.text, UnknownChildAge) < r.SexualisedAt {
			continue
		}
		add(all, origin, cm.account)
		if suspect(cm.account) {
			add(from, origin, cm.account)
		}
	}
	took := false
	for _, origin := range slices.Sorted(maps.Keys(from)) {
		if n := len(from[origin]); n >= minVoices && 2*n >= len(all[origin]) {
			r.cueKnown[origin] = true
			r.cue[origin] = fmt.Sprintf("no age stated; %d of the %d accounts that sexualise its images do so to children's images too", n, len(all[origin]))
			for ci := range r.clusters {
				if a.posts[r.clusters[ci].posts[0]].account == origin {
					r.clusters[ci].child = true
				}
			}
			took = true
		}
	}
	return took
}

// unstated returns the origin of the image a comment is beneath when that
// origin's account states no age and is not a child's already, and the
// comment is by another account that origin does not follow.
func (r *run) unstated(cm *comment) (int32, bool) {
	ci := r.postClus[cm.post]
	if ci < 0 || r.clusters[ci].child {
		return 0, false
	}
	origin := r.a.posts[r.clusters[ci].posts[0]].account
	if origin == cm.account || r.statedAdult(origin) || r.childCue(cm.account) != "" || r.a.isFollowing(origin, cm.account) {
		return 0, false
	}
	return origin, true
}

// youthVoices takes for a child's an account that states no age but whose
// images others speak of as a child's (youthSaid): in comments beneath the
// image or any copy of it, or in a copy's caption, by at least minVoices
// accounts. Networks also steal from children whose accounts say nothing,
// and what they write beneath ("so mature for her age") says what they
// take the child for, as relatives' "our little star" does. The account's
// own captions count as one voice more ("her 9th birthday").
func (r *run) youthVoices(clusters []cluster) {
	a := r.a
	said := map[int32][]int32{} // post -> comments on it that speak of a child
	for i := range a.comments {
		if cm := &a.comments[i]; youthSaid(cm.text) != "" {
			said[cm.post] = append(said[cm.post], int32(i))
		}
	}
	type heard struct {
		voices map[int32]bool
		words  []string
	}
	byOrigin := map[int32]*heard{}
	hear := func(origin, voice int32, words string) {
		h := byOrigin[origin]
		if h == nil {
			h = &heard{voices: map[int32]bool{}}
			byOrigin[origin] = h
		}
		if !h.voices[voice] {
			h.voices[voice] = true
			h.words = append(h.words, words)
		}
	}
	for _, c := range clusters {
		origin := a.posts[c.posts[0]].account
		if r.childCue(origin) != "" || r.statedAdult(origin) {
			continue
		}
		for _, p := range c.posts {
			if w := youthSaid(a.posts[p].caption); w != "" {
				hear(origin, a.posts[p].account, w)
			}
			for _, ix := range said[p] {
				cm := &a.comments[ix]
				hear(origin, cm.account, youthSaid(cm.text))
			}
		}
	}
	for _, origin := range slices.Sorted(maps.Keys(byOrigin)) {
		if h := byOrigin[origin]; len(h.voices) >= minVoices {
			r.cueKnown[origin] = true
			r.cue[origin] = fmt.Sprintf("no age stated; %d accounts speak of its images as a child's (%q, %q)",
				len(h.voices), h.words[0], h.words[1])
		}
	}
}

// engagements records, per account, its reposts of children's images and
// its sexualised comments on them. Children's accounts are left out: a
// child re-sharing a friend's photo is not an offender, and targets are
// never members. So is what an account does to the images of a child
// whose account follows it: the child, or the parent running the account,
// chose that account, as families' relatives are chosen. A network member
// a child follows back escapes on that child's images (not on others').
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
		if !c.child {
			continue
		}
		origin := a.posts[c.posts[0]].account
		for _, p := range c.posts[1:] {
			acc := a.posts[p].account
			if acc != origin && r.childCue(acc) == "" && !a.isFollowing(origin, acc) {
				get(acc).reposts = append(get(acc).reposts, p)
			}
		}
	}
	for i := range a.comments {
		cm := &a.comments[i]
		ci := r.postClus[cm.post]
		if ci < 0 || !r.clusters[ci].child {
			continue
		}
		origin := a.posts[r.clusters[ci].posts[0]].account
		if cm.account == origin || r.childCue(cm.account) != "" || a.isFollowing(origin, cm.account) {
			continue
		}
		if s := r.Scorer.Sexualised(cm.text, childAge(a.accounts[origin].age, a.accounts[origin].bio)); s >= r.SexualisedAt {
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

// joinSmall moves each community too small to be a network into the
// community its nodes are most tied to, if any: modularity splits off a
// tight pair hanging off a network (two new members who talk mostly to
// each other), which alone could never be reported.
func (r *run) joinSmall(g *graph, comm []int32) {
	size := map[int32]int{}
	for _, c := range comm {
		size[c]++
	}
	nodes := map[int32][]int32{}
	for i, c := range comm {
		if size[c] < r.MinMembers {
			nodes[c] = append(nodes[c], int32(i))
		}
	}
	for _, c := range slices.Sorted(maps.Keys(nodes)) {
		w := map[int32]float64{}
		for _, i := range nodes[c] {
			for _, e := range g.adj[i] {
				if d := comm[e.to]; d != c && size[d] >= r.MinMembers {
					w[d] += e.w
				}
			}
		}
		best, bw := int32(-1), 0.0
		for _, d := range slices.Sorted(maps.Keys(w)) {
			if w[d] > bw {
				best, bw = d, w[d]
			}
		}
		if best >= 0 {
			for _, i := range nodes[c] {
				comm[i] = best
			}
		}
	}
}

// coLinks bounds the edges a shared image adds: each account that engaged
// with it is linked to at most this many of those who engaged before it, so
// a child's photo re-posted by a thousand accounts adds thousands of edges,
// not half a million.
const coLinks = 16

// graph links suspects that follow each other, comment on each other's
// posts, or engaged with the same child's image; each tie adds weight 1.
// It also returns the follows and comments among suspects, by node number.
func (r *run) graph(suspects []int32) (*graph, []tie) {
	a := r.a
	node := make(map[int32]int32, len(suspects))
	for i, s := range suspects {
		node[s] = int32(i)
	}
	g := newGraph(len(suspects))
	var links []tie
	for _, f := range a.follows {
		i, ok1 := node[f.from]
		j, ok2 := node[f.to]
		if ok1 && ok2 {
			g.add(i, j, 1)
			links = append(links, tie{i, j, false})
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
			links = append(links, tie{ci, cj, true})
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
	return g, links
}

// tie is a follow, or a comment on the other's post, between two accounts.
type tie struct {
	from, to int32
	comment  bool
}

// network judges one community: which of its accounts have evidence of
// their own, which children they target, and how strong the whole is.
// ties are the follows and comments inside the community.
func (r *run) network(accs []int32, ties []tie) (Network, bool) {
	if len(accs) < r.MinMembers {
		return Network{}, false
	}
	in := map[int32]bool{}
	for _, acc := range accs {
		in[acc] = true
	}
	tied := map[int32]int{} // ties, either way, inside the community
	for _, f := range ties {
		tied[f.from]++
		tied[f.to]++
	}
	// First on children's images alone; a community whose accounts with
	// evidence of their own score at least half of MinScore on them is
	// judged again with the images it treats as children's (inferred) and
	// with its quieter members, so that both complete a network but
	// cannot make one from nothing.
	reposts := map[int32][]int32{}
	for _, acc := range accs {
		reposts[acc] = r.engaged[acc].reposts
	}
	members, isMember := r.members(accs, reposts, tied)
	if nt, ok := r.judge(members, isMember, reposts, ties); !ok || nt.Score < r.MinScore/2 {
		return Network{}, false
	}
	for acc, ps := range r.inferred(accs, in) {
		reposts[acc] = append(slices.Clip(reposts[acc]), ps...)
	}
	// Accounts with one act of their own against these children and two
	// ties (follows or comments) to the accounts already members join them:
	// that is how the quieter members of a network look.
	core := isMember
	coreTied := map[int32]int{}
	for _, f := range ties {
		if core[f.to] {
			coreTied[f.from]++
		}
		if core[f.from] {
			coreTied[f.to]++
		}
	}
	members, isMember = r.members(accs, reposts, tied)
	for _, acc := range accs {
		if !isMember[acc] && coreTied[acc] >= 2 && len(reposts[acc])+len(r.engaged[acc].comments) > 0 {
			members = append(members, acc)
			isMember[acc] = true
		}
	}
	nt, ok := r.judge(members, isMember, reposts, ties)
	return nt, ok && len(members) >= r.MinMembers && nt.Score >= r.MinScore
}

// members picks the accounts of a community with evidence of their own: a
// sexualised comment on a child's image, or three re-posts of children's
// images, or two and ties (follows, comments) to two others in the
// community. One or two re-posts alone are what relatives do.
func (r *run) members(accs []int32, reposts map[int32][]int32, tied map[int32]int) ([]int32, map[int32]bool) {
	var members []int32
	isMember := map[int32]bool{}
	for _, acc := range accs {
		nc, nr := len(r.engaged[acc].comments), len(reposts[acc])
		if nc > 0 || nr >= 3 || (nr == 2 && tied[acc] >= 2) {
			members = append(members, acc)
			isMember[acc] = true
		}
	}
	return members, isMember
}

// judge builds the network of members with its evidence and score; ok is
// false for fewer than two members.
func (r *run) judge(members []int32, isMember map[int32]bool, reposts map[int32][]int32, ties []tie) (Network, bool) {
	a := r.a
	if len(members) < 2 {
		return Network{}, false
	}
	var nt Network
	targets := map[int32]*Target{}
	origins := map[int32]bool{}
	touch := func(ci int32) string {
		op := &a.posts[r.clusters[ci].posts[0]]
		t := targets[op.account]
		if t == nil {
			t = &Target{Account: a.accounts[op.account].id, Cue: r.childCue(op.account)}
			if t.Cue == "" {
				t.Cue = "no age stated; its images are re-shared mostly by this network"
			}
			targets[op.account] = t
		}
		if !origins[ci] {
			origins[ci] = true
			t.Images = append(t.Images, op.id)
		}
		return t.Account
	}
	follows := map[int32][]string{}
	for _, f := range ties {
		if !f.comment && isMember[f.from] && isMember[f.to] {
			follows[f.from] = append(follows[f.from], a.accounts[f.to].id)
		}
	}
	ev := evidence{members: len(members)}
	var nTies, engaged int
	for _, acc := range members {
		e := r.engaged[acc]
		m := Member{Account: a.accounts[acc].id, Follows: follows[acc]}
		for _, p := range reposts[acc] {
			ci := r.postClus[p]
			c := &r.clusters[ci]
			m.Reposts = append(m.Reposts, Repost{Post: a.posts[p].id, Origin: a.posts[c.posts[0]].id, Target: touch(ci),
				Distance: c.dist[slices.Index(c.posts, p)], At: time.Unix(0, a.posts[p].at).UTC()})
		}
		for k, ix := range e.comments {
			cm := &a.comments[ix]
			m.Comments = append(m.Comments, Comment{ID: cm.id, Post: a.posts[cm.post].id, Target: touch(r.postClus[cm.post]),
				Text: cm.text, Score: e.score[k], At: time.Unix(0, cm.at).UTC()})
		}
		slices.Sort(m.Follows)
		ev.reposts += len(m.Reposts)
		ev.comments += len(m.Comments)
		engaged += distinctTargets(m)
		nTies += len(m.Follows)
		m.Reasons = memberReasons(m)
		nt.Members = append(nt.Members, m)
	}
	n := len(members)
	ev.targets, ev.perMember = len(targets), float64(engaged)/float64(n)
	ev.density = float64(nTies) / float64(n*(n-1))
	nt.Score, nt.Reasons = score(ev)
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

// inferred finds the images a community treats as it treats children's
// images although their origin states no age: images that two or more of
// its accounts re-posted and whose re-posters are mostly in the community.
// A network also steals from children whose accounts say nothing of their
// age; a meme, a club's team photo or an influencer's picture is re-posted
// by many outside any one community, and an account that states an adult
// age is never taken for a child. It returns each account's re-posts of
// such images.
func (r *run) inferred(accs []int32, in map[int32]bool) map[int32][]int32 {
	a := r.a
	byCluster := map[int32][]int32{} // cluster -> re-posts by the community
	for _, acc := range accs {
		for _, p := range a.accounts[acc].posts {
			ci := r.postClus[p]
			if ci < 0 || r.clusters[ci].child {
				continue
			}
			origin := a.posts[r.clusters[ci].posts[0]].account
			if origin == acc || in[origin] || r.statedAdult(origin) || a.isFollowing(origin, acc) {
				continue
			}
			byCluster[ci] = append(byCluster[ci], p)
		}
	}
	out := map[int32][]int32{}
	for ci, ps := range byCluster {
		if len(ps) < 2 || 2*len(ps) < len(r.clusters[ci].posts)-1 {
			continue
		}
		for _, p := range ps {
			acc := a.posts[p].account
			out[acc] = append(out[acc], p)
		}
	}
	for _, ps := range out {
		slices.Sort(ps)
	}
	return out
}

func distinctTargets(m Member) int {
	ts := map[string]bool{}
	for _, r := range m.Reposts {
		ts[r.Target] = true
	}
	for _, c := range m.Comments {
		ts[c.Target] = true
	}
	return len(ts)
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

// evidence is what a network's score weighs.
type evidence struct {
	members, targets, reposts, comments int
	// perMember is how many children a member engages with on average.
	perMember float64
	density   float64 // follows among members / possible follows
}

// score weighs a network's evidence. How many children each member goes
// after counts most, since families are the commonest innocent pattern: a
// relative re-posts the photos of the one or two children of the family,
// while a network's members each go after several of its targets, so
// families joined by chance follows into one community still average two
// children or fewer. Then come sexualised comments per member, re-posts
// per member (a relative re-posts a photo once; the heavy re-poster
// several times per member) and how densely members follow each other.
// Without sexualised comments, members averaging two children or fewer
// and two re-posts or fewer stay at 0.4.
func score(ev evidence) (float64, []string) {
	n := float64(ev.members)
	s := 0.3 * min(1, max(0, (ev.perMember-1)/2))
	rs := []string{fmt.Sprintf("%d members go after %d children, %.1f each on average", ev.members, ev.targets, ev.perMember)}
	if ev.comments > 0 {
		s += min(0.4, 0.4*float64(ev.comments)/n)
		rs = append(rs, fmt.Sprintf("%d sexualised comments on those children's images", ev.comments))
	}
	if ev.reposts > 0 {
		s += min(0.2, 0.05*float64(ev.reposts)/n)
		rs = append(rs, fmt.Sprintf("%d re-posts of those children's images", ev.reposts))
	}
	if ev.density > 0 {
		s += min(0.15, ev.density)
		rs = append(rs, fmt.Sprintf("members follow each other (density %.2f)", ev.density))
	}
	return min(1, s), rs
}
