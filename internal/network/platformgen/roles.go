package platformgen

import "slices"

// Texts. Bios of ordinary accounts include near misses for the child cues
// ("mum of 3", "11 years in marketing", a coach of an under-12 team).
var (
	ordinaryBios = []string{
		"coffee, hiking and bad puns", "dad of two | runner", "mum of 3 💕", "11 years in marketing",
		"U12 coach on weekends ⚽", "photography 📷", "amante del café ☕", "papá de dos 👨‍👧‍👦", "",
		"travel | food | life", "nurse 🩺 night shifts", "35 y/o and still learning guitar", "",
		"profe de secundaria 📚", "I'm 42 and I love gardening", "gamer 🎮", "",
	}
	captions    = []string{"sunday vibes", "", "throwback", "new week new goals", "🌅", "with the crew", "finde ☀️", "lunch 🍜", ""}
	chatterText = []string{
		"nice!", "love this", "😂", "so true", "beautiful view", "congrats!", "🔥🔥", "haha", "where is this?",
		"qué bonito", "me encanta", "👏👏", "great shot", "miss you!", "lol", "same", "❤️",
	}
	childBios = []string{
		"Lily 🌸 9 y/o | account run by mum", "dancer 💃 11yo", "Cuenta manejada por mamá 💕 Sofía",
		"gymnastics 🤸 | account managed by my mom", "Mia, 10 years old | mum-run", "Valentina 12 años 🎀",
		"page run by her parents ✨ ballet", "Emma 💖 8 y/o model", "cuenta administrada por mi mamá | 11 años",
		"I'm 13 | volleyball 🏐", "",
	}
	cueLessBios    = []string{"dance & gymnastics 🤸", "ballet 🩰 | singing", "✨ dreams ✨", "patinaje ⛸️"}
	childCaptions  = []string{"recital day 🩰", "first place! 🥇", "beach day", "new dance", "school's out!", "mi cumple 🎂", ""}
	relativeText   = []string{"so proud ❤️", "our little star 🌟", "beautiful girl ❤️", "qué orgullo 💕", "so cute!"}
	memeBios       = []string{"daily memes 😂", "memes y más memes", "the funniest page"}
	memeText       = []string{"😂😂", "lol", "so true", "jajaja", "me every monday", "💀"}
	influencerBios = []string{"fitness & travel ✈️ | 24 y/o", "model 📸 | collabs by email", "modelo | 26 años | DM para colaboraciones"}
	fanText        = []string{"hot 🥵", "so hot 🔥", "sexy 😍", "😍😍", "goddess", "qué guapa 🔥"}
	clubBios       = []string{
		"Riverside Youth FC ⚽ U10–U14 | training Tue/Thu", "St. Mary's Primary School – ages 4-11",
		"Club Deportivo Infantil · categoría sub-12", "Northside Gymnastics Academy | girls 6-14",
		"Colegio San José 🏫", "Lakeside Swim Club 🏊 juniors",
	}
	clubCaptions = []string{"match day!", "tournament winners 🏆", "end of term show", "training camp", "¡campeonas!"}
	clubText     = []string{"well done team!", "so proud of our girls", "¡bravo!", "great match!", "👏👏👏"}
	// Network comments. Some are phrases Lexicon does not know, so that the
	// measure is not of a lexicon against its own word list.
	emojiText  = []string{"🥵🥵", "😏", "👅", "🍑🔥", "😈😈", "🥵", "😍😏", "👀🥵", "💦"}
	sexualText = []string{
		"so mature for her age", "more of her pls", "dm me more of her", "look at her 😏",
		"she's so hot", "growing up nicely 😍", "send more", "qué rica", "más fotos de ella",
		"those legs", "sexy little thing",
	}
)

func (g *gen) ordinaryAccounts() {
	for range g.cfg.Ordinary {
		age := 0
		if g.rng.IntN(2) == 0 {
			age = 18 + g.rng.IntN(50)
		}
		id := g.account(g.pick(ordinaryBios), age)
		g.ordinary = append(g.ordinary, id)
		g.ordinaryLife(id)
	}
	for _, id := range g.ordinary {
		for range 3 + g.rng.IntN(12) {
			g.follow(id, g.pick(g.ordinary))
		}
	}
}

// ordinaryLife is what every account does at times: its own photos and
// text posts. Chatter (comments on others) comes at the end, when every post
// exists.
func (g *gen) ordinaryLife(id string) {
	for range g.rng.IntN(5) {
		g.post(id, g.when(), g.randomCode(), g.pick(captions))
	}
	for range g.rng.IntN(3) {
		g.textPost(id, g.when(), g.pick(captions))
	}
}

// child is a child account with its images.
type child struct {
	id    string
	posts []postRef
}

func (g *gen) childAccounts() []child {
	var cs []child
	var family []string
	for range g.cfg.Children {
		var id string
		if g.rng.Float64() < g.cfg.CueLess {
			id = g.account(g.pick(cueLessBios), 0)
			g.truth.CueLess = append(g.truth.CueLess, id)
		} else {
			bio, age := g.pick(childBios), 0
			if bio == "" || g.rng.IntN(4) == 0 {
				age = 7 + g.rng.IntN(9)
			}
			id = g.account(bio, age)
		}
		g.truth.Children = append(g.truth.Children, id)
		c := child{id: id}
		for range 3 + g.rng.IntN(6) {
			c.posts = append(c.posts, g.post(id, g.when(), g.randomCode(), g.pick(childCaptions)))
		}
		// Relatives follow the child and each other, and re-post one
		// photo once: the commonest innocent re-share of a child's image.
		// Each family has its own relatives; a fifth of children are the
		// sibling of the child before, sharing its relatives, who then
		// re-post two children's photos.
		var rel []string
		if len(cs) > 0 && g.rng.IntN(5) == 0 {
			rel = family
		} else {
			for range g.rng.IntN(4) {
				rel = append(rel, g.relative())
			}
			for i, r := range rel {
				for _, s := range rel[:i] {
					g.follow(r, s)
					g.follow(s, r)
				}
			}
		}
		family = rel
		for _, r := range rel {
			g.follow(r, id)
			g.follow(id, r) // parents follow the family back
			p := c.posts[g.rng.IntN(len(c.posts))]
			g.repost(r, p, g.pick(relativeText))
			g.comment(r, p, g.pick(relativeText))
		}
		g.truth.Negatives["relatives"] = append(g.truth.Negatives["relatives"], rel...)
		for range g.rng.IntN(6) {
			g.follow(g.pick(g.ordinary), id)
		}
		cs = append(cs, c)
	}
	return cs
}

// relative is an ordinary account that is nobody's relative yet, or a new
// one when all are.
func (g *gen) relative() string {
	if g.related == nil {
		g.related = map[string]bool{}
	}
	for range 20 {
		if r := g.pick(g.ordinary); !g.related[r] {
			g.related[r] = true
			return r
		}
	}
	r := g.account(g.pick(ordinaryBios), 0)
	g.related[r] = true
	return r
}

func (g *gen) memes() {
	for range g.cfg.Memes {
		id := g.account(g.pick(memeBios), 0)
		g.truth.Negatives["meme_accounts"] = append(g.truth.Negatives["meme_accounts"], id)
		for range 3 {
			p := g.post(id, g.when(), g.randomCode(), "😂")
			for range g.cfg.MemeReposts {
				r := g.pick(g.ordinary)
				q := g.repost(r, p, g.pick(memeText))
				if g.rng.IntN(4) == 0 {
					g.comment(g.pick(g.ordinary), q, g.pick(memeText))
				}
				g.truth.Negatives["meme_reposters"] = append(g.truth.Negatives["meme_reposters"], r)
			}
		}
	}
}

func (g *gen) influencers() {
	for range g.cfg.Influencers {
		id := g.account(g.pick(influencerBios), 21+g.rng.IntN(10))
		g.truth.Negatives["influencers"] = append(g.truth.Negatives["influencers"], id)
		var photos []postRef
		for range 10 {
			photos = append(photos, g.post(id, g.when(), g.randomCode(), "🔥"))
		}
		var fans []string
		for range g.cfg.Fans {
			f := g.pick(g.ordinary)
			fans = append(fans, f)
			g.follow(f, id)
			for range 1 + g.rng.IntN(4) {
				p := photos[g.rng.IntN(len(photos))]
				q := g.repost(f, p, g.pick(fanText))
				g.comment(f, p, g.pick(fanText))
				if g.rng.IntN(2) == 0 {
					g.comment(g.pick(fans), q, g.pick(fanText))
				}
			}
		}
		// Fans follow each other: a dense community, but of adults' photos.
		for _, f := range fans {
			for range 3 {
				g.follow(f, g.pick(fans))
			}
		}
		g.truth.Negatives["fans"] = append(g.truth.Negatives["fans"], fans...)
	}
}

func (g *gen) clubs() {
	for i := range g.cfg.Clubs {
		id := g.account(clubBios[i%len(clubBios)], 0)
		g.truth.Negatives["clubs"] = append(g.truth.Negatives["clubs"], id)
		var photos []postRef
		for range 8 {
			photos = append(photos, g.post(id, g.when(), g.randomCode(), g.pick(clubCaptions)))
		}
		var parents []string
		for range 20 + g.rng.IntN(21) {
			p := g.pick(g.ordinary)
			parents = append(parents, p)
			g.follow(p, id)
			for range 1 + g.rng.IntN(3) {
				ph := photos[g.rng.IntN(len(photos))]
				g.repost(p, ph, g.pick(clubText))
				g.comment(p, ph, g.pick(clubText))
			}
		}
		for _, p := range parents {
			for range 5 {
				g.follow(p, g.pick(parents))
			}
		}
		g.truth.Negatives["club_parents"] = append(g.truth.Negatives["club_parents"], parents...)
	}
}

// plant adds a network of size new accounts that steal from a few children.
func (g *gen) plant(name string, style Style, size int, children []child) {
	tn := TruthNetwork{Name: name, Style: style}
	var stolen []postRef
	for range 3 + size/10 {
		c := children[g.rng.IntN(len(children))]
		if !slices.Contains(tn.Targets, c.id) {
			tn.Targets = append(tn.Targets, c.id)
			stolen = append(stolen, c.posts...)
		}
	}
	for range size {
		age := 0
		if g.rng.IntN(3) == 0 {
			age = 18 + g.rng.IntN(40)
		}
		id := g.account(g.pick(ordinaryBios), age)
		tn.Members = append(tn.Members, id)
	}
	density := map[Style]float64{Emoji: 0.25, Reposter: 0.5, Mixed: 0.15}[style]
	for _, m := range tn.Members {
		for _, n := range tn.Members {
			if m != n && g.rng.Float64() < density {
				g.follow(m, n)
			}
		}
		for _, t := range tn.Targets {
			if g.rng.IntN(2) == 0 {
				g.follow(m, t)
				if g.rng.IntN(10) == 0 {
					g.follow(t, m) // some children follow strangers back
				}
			}
		}
		for range 3 + g.rng.IntN(8) {
			g.follow(m, g.pick(g.ordinary))
		}
		g.ordinaryLife(m) // members behave ordinarily too
	}
	pool := append([]postRef(nil), stolen...)
	for _, m := range tn.Members {
		var reposts, comments int
		var texts []string
		switch style {
		case Emoji:
			reposts, comments, texts = g.rng.IntN(3), 3+g.rng.IntN(5), emojiText
		case Reposter:
			reposts, texts = 3+g.rng.IntN(6), emojiText
			if g.rng.IntN(5) == 0 {
				comments = 1
			}
		case Mixed:
			reposts, comments, texts = 1+g.rng.IntN(3), 1+g.rng.IntN(4), sexualText
		}
		for range reposts {
			pool = append(pool, g.repost(m, stolen[g.rng.IntN(len(stolen))], ""))
		}
		for range comments {
			g.comment(m, pool[g.rng.IntN(len(pool))], g.pick(texts))
		}
		if style == Mixed {
			for range 1 + g.rng.IntN(4) {
				g.comment(m, pool[g.rng.IntN(len(pool))], g.pick(chatterText))
			}
		}
	}
	g.ordinary = append(g.ordinary, tn.Members...) // so others follow and chat with them
	g.truth.Networks = append(g.truth.Networks, tn)
}

// chatter is ordinary commenting on random posts by everyone ordinary,
// network members included.
func (g *gen) chatter() {
	for _, id := range g.ordinary {
		for range g.rng.IntN(7) {
			g.comment(id, g.posts[g.rng.IntN(len(g.posts))], g.pick(chatterText))
		}
	}
}
