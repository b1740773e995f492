package network

import (
	"github.com/safeguard-oss/safeguard/internal/hamming"
)

// Activity is everything accepted so far: accounts, posts, comments and
// follows, with ids interned to small integers so that a million events
// fit in a few hundred megabytes. Add is idempotent by id (follows by the
// pair of accounts), so a platform may resend a batch; a comment or post
// may arrive before the post or account it names.
//
// The zero value is empty and ready to use. An Activity is not safe for
// concurrent use.
type Activity struct {
	accounts   []account
	accountIdx map[string]int32
	posts      []post
	postIdx    map[string]int32
	comments   []comment
	commentIDs map[string]struct{}
	follows    []follow
	followSet  map[[2]int32]struct{}
}

type account struct {
	id    string
	seen  bool // an account event arrived, not only a reference to it
	bio   string
	age   int // declared age; 0 when not declared
	posts []int32
}

type post struct {
	id      string
	seen    bool
	account int32
	at      int64 // Unix nanoseconds
	code    hamming.Code
	hasCode bool
	caption string
}

type comment struct {
	id      string
	account int32
	post    int32
	at      int64
	text    string
}

type follow struct {
	from, to int32
	at       int64
}

// Add accepts one checked event (see Event.Check) and reports whether it
// was new; a repeat of an id already accepted is ignored, keeping the first.
func (a *Activity) Add(e Event) bool {
	switch e.Type {
	case "account":
		i := a.account(e.ID)
		ac := &a.accounts[i]
		if ac.seen {
			return false
		}
		ac.seen, ac.bio, ac.age = true, e.Bio, e.DeclaredAge
	case "post":
		i := a.post(e.ID)
		p := &a.posts[i]
		if p.seen {
			return false
		}
		p.seen, p.account, p.at, p.caption = true, a.account(e.Account), e.At.UnixNano(), e.Caption
		p.code, p.hasCode = e.code()
		a.accounts[p.account].posts = append(a.accounts[p.account].posts, i)
	case "comment":
		if a.commentIDs == nil {
			a.commentIDs = make(map[string]struct{})
		}
		if _, ok := a.commentIDs[e.ID]; ok {
			return false
		}
		a.commentIDs[e.ID] = struct{}{}
		a.comments = append(a.comments, comment{e.ID, a.account(e.Account), a.post(e.Post), e.At.UnixNano(), e.Text})
	case "follow":
		k := [2]int32{a.account(e.Account), a.account(e.Target)}
		if a.followSet == nil {
			a.followSet = make(map[[2]int32]struct{})
		}
		if _, ok := a.followSet[k]; ok {
			return false
		}
		a.followSet[k] = struct{}{}
		a.follows = append(a.follows, follow{k[0], k[1], e.At.UnixNano()})
	default:
		return false
	}
	return true
}

// Len returns how many events have been accepted.
func (a *Activity) Len() int {
	n := len(a.comments) + len(a.follows)
	for i := range a.accounts {
		if a.accounts[i].seen {
			n++
		}
	}
	for i := range a.posts {
		if a.posts[i].seen {
			n++
		}
	}
	return n
}

func (a *Activity) account(id string) int32 {
	return intern(&a.accountIdx, &a.accounts, id, account{id: id})
}

func (a *Activity) post(id string) int32 {
	return intern(&a.postIdx, &a.posts, id, post{id: id, account: -1})
}

// intern returns id's index in list, appending zero when id is new.
func intern[T any](idx *map[string]int32, list *[]T, id string, zero T) int32 {
	if i, ok := (*idx)[id]; ok {
		return i
	}
	if *idx == nil {
		*idx = make(map[string]int32)
	}
	i := int32(len(*list))
	*list = append(*list, zero)
	(*idx)[id] = i
	return i
}

// isFollowing reports whether account from follows account to.
func (a *Activity) isFollowing(from, to int32) bool {
	_, ok := a.followSet[[2]int32{from, to}]
	return ok
}
