package textrisk

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func fired(r Result, family string) bool {
	for _, re := range r.Reasons {
		if re.Family == family {
			return true
		}
	}
	return false
}

// Each family fires on what it is about, with its reason, and stays clear
// of the harmless text that shares its words. Messages here are not in
// the evaluation sets.
func TestFamilies(t *testing.T) {
	s := mustScorer(t)
	dm13 := Message{Surface: DM, TargetAge: 13}
	under := Message{Surface: Comment, OnChildContent: true}
	for _, c := range []struct {
		family   string
		ctx      Message
		pos, neg string
	}{
		{"age_probe", dm13, "how old r u btw? u home alone?", "how old is ur cousin now"},
		{"secrecy", dm13, "dont tell ur parents about us ok", "dont tell mom about the birthday cake"},
		{"platform_move", dm13, "lets move to telegram, its safer", "the meeting moved to room 4"},
		{"gifts", dm13, "i can get u free robux for a selfie", "mom will buy you a robux card for your birthday"},
		{"image_request", dm13, "send me a pic of u in ur pjs", "send me a pic of the worksheet"},
		{"sexual_talk", dm13, "r u still a virgin?", "sex ed class is on tuesday"},
		{"meeting", dm13, "sneak out tonight, come alone", "dad will pick you up from practice"},
		{"rapport", dm13, "ur so mature for ur age, ur parents dont get u", "ur puppy is so cute"},
		{"threat_share", Message{Surface: DM}, "pay or i send ur pics to all ur friends", "i will send the pics to grandma tonight"},
		{"extortion_demand", Message{Surface: DM}, "u have 2 hours to pay or else", "pay me back for the tickets whenever"},
		{"sexual_remark", under, "she is so hot 🥵", "hot chocolate after the game ☕"},
		{"lewd_emoji", under, "🍑🍑💦", "hot day at the lake ☀️🥵"},
		{"more_request", under, "more of her pls", "more info about the camp please"},
		{"link_trade", under, "trade? tele link in bio", "pokemon card trade at the library saturday"},
	} {
		pos, neg := c.ctx, c.ctx
		pos.Text, neg.Text = c.pos, c.neg
		rp, rn := s.Score(pos), s.Score(neg)
		if !rp.Flagged || !fired(rp, c.family) {
			t.Errorf("%s: %q: flagged %v %.2f, reasons %+v: want flagged by %s", c.family, c.pos, rp.Flagged, rp.Score, rp.Reasons, c.family)
		}
		if rn.Flagged || fired(rn, c.family) {
			t.Errorf("%s: hard negative %q: flagged %v %.2f, reasons %+v", c.family, c.neg, rn.Flagged, rn.Score, rn.Reasons)
		}
	}
}

// The hard negatives the issue names stay clear, wherever they are posted.
func TestIssueHardNegatives(t *testing.T) {
	s := mustScorer(t)
	for _, text := range []string{"so proud of her first recital", "send me the homework page", "hot chocolate weather 🥵"} {
		for _, m := range []Message{{Surface: Comment, OnChildContent: true}, {Surface: Caption}, {Surface: DM, TargetAge: 12}} {
			m.Text = text
			if r := s.Score(m); r.Flagged {
				t.Errorf("%q as %s: flagged %.2f %+v", text, m.ContextString(), r.Score, r.Reasons)
			}
		}
	}
}

// One word borrowed by another language ("viral", "hotel", "link") is
// not evidence alone, even read as Spanish.
func TestShortHarmless(t *testing.T) {
	s := mustScorer(t)
	for _, text := range []string{"viral", "hotel", "mega", "link", "telegram", "trade?", "more", "lol", "ok", "our hotel room has a pool!", "this went viral lol"} {
		if r := s.Score(Message{Text: text, Surface: DM, TargetAge: 13}); r.Flagged {
			t.Errorf("%q: flagged %.2f %+v", text, r.Score, r.Reasons)
		}
	}
}

// Context is used: the same words weigh more to a declared minor, under
// a child's photo, and less in a public caption.
func TestContext(t *testing.T) {
	s := mustScorer(t)
	score := func(m Message) float64 { return s.Score(m).Score }
	if a, b := score(Message{Text: "are you alone?", Surface: DM, TargetAge: 12}), score(Message{Text: "are you alone?", Surface: DM}); a <= b {
		t.Errorf("to a 12-year-old %.2f, to an unknown age %.2f: want higher", a, b)
	}
	if a, b := score(Message{Text: "are you alone?", Surface: DM, TargetAge: 12}), score(Message{Text: "are you alone?", Surface: DM, TargetAge: 30}); a <= b {
		t.Errorf("to a 12-year-old %.2f, to an adult %.2f: want higher", a, b)
	}
	under, plain := Message{Text: "🥵🥵", Surface: Comment, OnChildContent: true}, Message{Text: "🥵🥵", Surface: Comment}
	if !s.Score(under).Flagged || s.Score(plain).Flagged {
		t.Errorf("🥵🥵 under a child's photo %.2f, under other content %.2f: want only the first flagged", score(under), score(plain))
	}
	r := s.Score(under)
	if !strings.Contains(r.Reasons[0].Context, "child") {
		t.Errorf("reason context %q: want the child content named", r.Reasons[0].Context)
	}
}

func TestSpanish(t *testing.T) {
	s := mustScorer(t)
	r := s.Score(Message{Text: "no le digas a tu mamá, es nuestro secreto", Surface: DM, TargetAge: 12})
	if !r.Flagged || r.Language != "es" || !fired(r, "secrecy") {
		t.Fatalf("%+v", r)
	}
	if r := s.Score(Message{Text: "no le digas a mamá lo de la fiesta sorpresa", Surface: DM, TargetAge: 12}); r.Flagged {
		t.Fatalf("surprise party flagged: %+v", r)
	}
}

func TestLabels(t *testing.T) {
	s := mustScorer(t)
	for text, want := range map[string]string{
		"pay me $200 or i post ur pics everywhere": Sextortion,
		"send me a pic of u, dont tell ur mom":     Grooming,
	} {
		r := s.Score(Message{Text: text, Surface: DM, TargetAge: 14})
		if len(r.Labels) != 1 || r.Labels[0] != want {
			t.Errorf("%q: labels %v, want [%s]", text, r.Labels, want)
		}
	}
	r := s.Score(Message{Text: "more of her 🥵", Surface: Comment, OnChildContent: true})
	if len(r.Labels) != 1 || r.Labels[0] != SexualComment {
		t.Errorf("labels %v, want [%s]", r.Labels, SexualComment)
	}
	if r := s.Score(Message{Text: "see you at practice", Surface: DM}); r.Flagged || len(r.Labels) != 0 || len(r.Reasons) != 0 {
		t.Errorf("%+v", r)
	}
}

func TestParseContext(t *testing.T) {
	m, err := ParseContext("dm,age=13,child")
	if err != nil || m.Surface != DM || m.TargetAge != 13 || !m.OnChildContent || m.ContextString() != "dm,child,age=13" {
		t.Fatalf("%+v %v", m, err)
	}
	for _, bad := range []string{"", "sms", "dm,age=0", "dm,age=x", "dm,adult", "comment,age=999"} {
		if _, err := ParseContext(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// The language files are checked when loaded: a mistake in one is an
// error naming its line, never a rule that silently never fires.
func TestLanguageFileErrors(t *testing.T) {
	for src, want := range map[string]string{
		"rule secrecy 0.5 x":                                              "no lang line",
		"lang xx\nrule nosuch 0.5 x":                                      "line 2: unknown family",
		"lang xx\nrule secrecy 2 x":                                       "weight",
		"lang xx\nrule secrecy 0.5 Don't":                                 "lower-case",
		"lang xx\nrule secrecy 0.5 * x":                                   "must start and end",
		"lang xx\nrule secrecy 0.5 [nope] x":                              "unknown class",
		"lang xx\nfrobnicate":                                             "unknown keyword",
		"lang xx\nabbr u = you\nabbr u = u":                               "given twice",
		"lang xx\nsense ye = you | are":                                   "want sense WORD = MEANING | AFTER WORDS | UNLESS-BEFORE WORDS",
		"lang xx\nsense ye = | are | i":                                   "want sense",
		"lang xx\nsense ye = you | Are | i":                               "lower-case",
		"lang xx\npeer 1.5 i am # too":                                    "want peer WEIGHT PATTERN",
		"lang xx\npeer 0.4":                                               "want peer WEIGHT PATTERN",
		"lang xx\nsupport nosuch 0.3 # x":                                 "unknown family",
		"lang xx\nsupport secrecy 0.3":                                    "want support FAMILY WEIGHT PATTERN",
		"lang xx\ncue a x\ncue b y\nwhen threat_share 0.5 a + c":          "line 4: unknown cue \"c\"",
		"lang xx\ncue a x\ncue b y\nwhen threat_share 0.5 a + a":          "named twice",
		"lang xx\ncue a x\nwhen threat_share 0.5 a":                       "needs two cues",
		"lang xx\ncue a x\ncue b y\ncue c z\nwhen threat_share 0.5 a + b": "cue \"c\": no when rule uses it",
		"lang xx\ncue a x\ncue b y\nwhen nosuch 0.5 a + b":                "unknown family",
		"lang xx\ncue a x\ncue b y\nwhen threat_share 1 a + b":            "weight",
		"lang xx\ncue Ab x":                                               "want cue NAME PATTERN",
	} {
		_, err := parseLanguage(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}

func TestReadExamples(t *testing.T) {
	in := "# c\nlabel\tsurface\ttext\ngrooming\tdm,age=13\thow old r u\nnone\tcomment,child\tso proud\n\nconfirmed\tbio\tx\n"
	ex, err := ReadExamples(strings.NewReader(in))
	if err != nil || len(ex) != 3 || !ex[0].Positive || ex[0].TargetAge != 13 || ex[1].Positive || !ex[1].OnChildContent || !ex[2].Positive || ex[2].Line != 6 {
		t.Fatalf("%+v %v", ex, err)
	}
	for in, want := range map[string]string{
		"grooming\tdm":   "line 1: want three",
		"bad\tdm\tx":     "line 1: label",
		"none\tsms\tx":   "surface",
		"none\tdm\t\xff": "UTF-8",
		"none\tdm\t" + strings.Repeat("a", MaxLine): "longer than",
	} {
		if _, err := ReadExamples(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.30q: error %v, want %q", in, err, want)
		}
	}
}

func FuzzReadExamples(f *testing.F) {
	f.Add("label\tsurface\ttext\ngrooming\tdm,age=13\thow old r u\n")
	f.Add("none\tcomment,child\tso proud\r\n# x\n\nsextortion\tdm\tpay me\n")
	f.Add("x\ty\n")
	s, err := New(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ex, err := ReadExamples(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, e := range ex {
			if _, err := ParseContext(e.ContextString()); err != nil {
				t.Fatalf("context %q read but not re-read: %v", e.ContextString(), err)
			}
			s.Score(e.Message)
		}
	})
}

func FuzzLoadModel(f *testing.F) {
	f.Add(`{"format":"safeguard-textrisk-model","version":1,"bits":18,"index":[1,2],"weight":[0.5,-1]}`)
	f.Add(`{"format":"safeguard-textrisk-model","version":1,"bits":18,"index":[262144],"weight":[1]}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, in string) {
		md, err := Load(strings.NewReader(in))
		if err != nil {
			return
		}
		s, err := New(md)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.Score(Message{Text: "how old r u", Surface: DM}); r.Score < 0 || r.Score > 1 {
			t.Fatalf("score %v", r.Score)
		}
	})
}

func FuzzParseLanguage(f *testing.F) {
	f.Add("lang xx X\nclass a = b c\nrule secrecy 0.5 d [a] * #1-5 e?/f g\nnot secrecy h\nkin i")
	f.Add("lang xx\nrule secrecy 0.5 *12 x")
	f.Fuzz(func(t *testing.T, src string) {
		lx, err := parseLanguage(src)
		if err != nil {
			return
		}
		toks := lx.tokens(scan("d b x 3 e g h i", map[rune]string{}, nil))
		for _, rs := range []*ruleSet{&lx.rules, &lx.clears, &lx.kin} {
			rs.each(toks, func(*rule, int, int) {})
		}
	})
}

// A victim, a parent, a moderator or the news quoting what an offender
// wrote keeps the phrases as reasons (a reviewer sees them) but is scored
// distinctly: Reported, and far below the same words sent to a child.
// Messages here are not in the evaluation sets.
func TestReportedSpeech(t *testing.T) {
	s := mustScorer(t)
	for _, c := range []struct{ sent, reported string }{
		{"dont tell ur parents about us, delete this chat", "he kept saying dont tell ur parents about us, delete this chat. i have screenshots"},
		{"send me a pic of u in ur pjs, its our secret", "someone is messaging my daughter: send me a pic of u in ur pjs, its our secret"},
		{"pay $200 or i send ur pics to all ur friends", `my son got "pay $200 or i send ur pics to all ur friends" last night`},
		{"pay $200 or i send ur pics to all ur friends", "police arrested a man who wrote pay $200 or i send ur pics to all ur friends"},
		{"no le digas a tu mamá, borra el chat", "mi hija recibió un mensaje: no le digas a tu mamá, borra el chat"},
	} {
		m := Message{Surface: DM, TargetAge: 13, Text: c.sent}
		sent := s.Score(m)
		m.Text = c.reported
		rep := s.Score(m)
		if !sent.Flagged || sent.Reported {
			t.Errorf("%q sent: flagged %v reported %v (%.2f)", c.sent, sent.Flagged, sent.Reported, sent.Score)
		}
		if rep.Flagged || !rep.Reported || len(rep.Reasons) == 0 {
			t.Errorf("%q: flagged %v reported %v, %d reasons (%.2f): want reported, not flagged, with its reasons", c.reported, rep.Flagged, rep.Reported, len(rep.Reasons), rep.Score)
		}
	}
	// A quotation mark that is never closed quotes nothing.
	if r := s.Score(Message{Surface: DM, TargetAge: 13, Text: `"dont tell ur parents about us, delete this chat`}); !r.Flagged || r.Reported {
		t.Errorf("an unclosed quote: flagged %v reported %v", r.Flagged, r.Reported)
	}
}

// One phrase that harmless talk also uses, alone and without context
// that raises it, counts less; beside another kind of evidence, to a
// declared minor, or disguised, it counts in full; in a conversation it
// is not alone.
func TestOnePhraseAlone(t *testing.T) {
	s := mustScorer(t)
	alone := s.Score(Message{Surface: DM, Text: "ill post the pics tonight"})
	both := s.Score(Message{Surface: DM, Text: "ill post the pics tonight unless u pay"})
	if alone.Flagged || !both.Flagged || !strings.Contains(alone.Reasons[0].Context, "one phrase alone") {
		t.Errorf("alone %.2f (%+v), with a demand %.2f: want only the second flagged", alone.Score, alone.Reasons, both.Score)
	}
	minor := s.Score(Message{Surface: DM, TargetAge: 13, Text: "lets go private, this app reads everything"})
	adult := s.Score(Message{Surface: DM, Text: "lets go private, this app reads everything"})
	if !(minor.Score > adult.Score) || strings.Contains(minor.Reasons[0].Context, "alone") {
		t.Errorf("to a declared minor %.2f (%s), unknown %.2f", minor.Score, minor.Reasons[0].Context, adult.Score)
	}
	if r := s.Score(Message{Surface: DM, Text: "ｄｏｎｔ ｔｅｌｌ ａｎｙｏｎｅ"}); strings.Contains(r.Reasons[0].Context, "alone") {
		t.Errorf("a disguised phrase was discounted as alone: %+v", r.Reasons)
	}
}

// The speaker's own secret, a peer's permission, a shop and a group chat
// are not grooming or trading. Messages here are not in the evaluation sets.
func TestHardNegativeCues(t *testing.T) {
	s := mustScorer(t)
	for _, m := range []Message{
		{Surface: DM, TargetAge: 14, Text: "dont tell anyone but i failed the quiz lol"},
		{Surface: DM, TargetAge: 13, Text: "can u keep a secret? i have a crush on sam"},
		{Surface: DM, TargetAge: 13, Text: "can i come over saturday? my dad said its fine"},
		{Surface: Bio, Text: "selling handmade stickers and prints, dm me"},
		{Surface: DM, Text: "i took a screenshot of the map, ill send it to you"},
		{Surface: DM, Text: "moving this to the whatsapp group chat, easier for everyone"},
	} {
		if r := s.Score(m); r.Flagged {
			t.Errorf("%q flagged (%.2f): %+v", m.Text, r.Score, r.Reasons)
		}
	}
}

// The sender's declared age: an adult writing a DM to a declared minor
// weighs more than an unknown sender; a minor writing to a minor loses
// the minor-target weighting (peers' banter).
func TestAuthorAge(t *testing.T) {
	s := mustScorer(t)
	text := "u home alone tonight?"
	score := func(author int) float64 {
		return s.Score(Message{Text: text, Surface: DM, TargetAge: 13, AuthorAge: author}).Score
	}
	unknown, adult, peer := score(0), score(35), score(14)
	if !(adult > unknown && unknown > peer) {
		t.Errorf("%q to a declared 13-year-old: adult sender %.3f, unknown %.3f, 14-year-old %.3f: want adult > unknown > peer", text, adult, unknown, peer)
	}
	if r := s.Score(Message{Text: text, Surface: DM, TargetAge: 13, AuthorAge: 35}); !strings.Contains(r.Reasons[0].Context, "sender declared 35") {
		t.Errorf("reason context %q: want the sender's age named", r.Reasons[0].Context)
	}
	// A comment's words are about what it is under: the sender's age does
	// not raise sexual-comment evidence.
	c := Message{Text: "so hot 🥵", Surface: Comment, OnChildContent: true, TargetAge: 13}
	c2 := c
	c2.AuthorAge = 40
	if a, b := s.Score(c).Score, s.Score(c2).Score; a != b {
		t.Errorf("comment: %.3f with an unknown sender, %.3f with an adult: want the same", a, b)
	}
	m, err := ParseContext("dm,age=13,from=35")
	if err != nil || m.AuthorAge != 35 || m.ContextString() != "dm,age=13,from=35" {
		t.Errorf("ParseContext(from=35): %+v %v", m, err)
	}
	for _, bad := range []string{"dm,from=0", "dm,from=x", "dm,from=200"} {
		if _, err := ParseContext(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// Thresholds per surface: parsed, refused when malformed, and used.
func TestThresholds(t *testing.T) {
	th, err := ParseThresholds("dm=0.7, comment=0.3")
	if err != nil || th.Of(DM) != 0.7 || th.Of("") != 0.7 || th.Of(Comment) != 0.3 || th.Of(Bio) != Threshold {
		t.Fatalf("%v %v", th, err)
	}
	if th.String() != "dm=0.7,comment=0.3" {
		t.Errorf("String %q", th.String())
	}
	for _, bad := range []string{"dm", "sms=0.5", "dm=0", "dm=1.5", "dm=x"} {
		if _, err := ParseThresholds(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
	s := mustScorer(t)
	m := Message{Text: "how old r u? dont tell ur mom", Surface: DM, TargetAge: 13}
	r := s.Score(m)
	if !r.Flagged {
		t.Fatalf("%q: %.3f not flagged at %g", m.Text, r.Score, Threshold)
	}
	high := s.WithThresholds(Thresholds{DM: r.Score + 0.01})
	if high.Score(m).Flagged {
		t.Errorf("flagged at a DM threshold above its score %.3f", r.Score)
	}
	if c := (Message{Text: "so hot 🥵 send more of her", Surface: Comment, OnChildContent: true}); !high.Score(c).Flagged {
		t.Error("a DM threshold changed a comment's flag")
	}
	if s.Score(m).Flagged != true {
		t.Error("WithThresholds changed the scorer it copied")
	}
}

// ChooseThreshold takes the most recall at TargetPrecision, else the
// F0.5 optimum on the grid, and Threshold when there is too little to
// choose on.
func TestChooseThreshold(t *testing.T) {
	var scores []float64
	var truth []bool
	for i := 0; i < 20; i++ {
		scores = append(scores, 0.61, 0.55)
		truth = append(truth, true, false)
	}
	if got := ChooseThreshold(scores, truth); got != 0.56 {
		t.Errorf("positives at 0.61, negatives at 0.55: threshold %g, want 0.56", got)
	}
	if got := ChooseThreshold(scores[:10], truth[:10]); got != Threshold {
		t.Errorf("10 scores: %g, want %g", got, Threshold)
	}
	// 90 positives at 0.8, 10 at 0.5 beside 3 negatives: at 0.50 precision
	// 0.971 and recall 1 (F0.5 0.976), at 0.52 precision 1 and recall 0.9
	// (F0.5 0.978). The target keeps its precision and takes the recall.
	scores, truth = nil, nil
	for i := 0; i < 90; i++ {
		scores, truth = append(scores, 0.8), append(truth, true)
	}
	for i := 0; i < 10; i++ {
		scores, truth = append(scores, 0.5), append(truth, true)
	}
	for i := 0; i < 3; i++ {
		scores, truth = append(scores, 0.5), append(truth, false)
	}
	if got := ChooseThreshold(scores, truth); got > 0.5 {
		t.Errorf("precision 0.971 at 0.50 with recall 1: threshold %g, want 0.50 or less", got)
	}
	// 10 more negatives at 0.5: precision 0.88 there, under the target,
	// so the threshold rises above them.
	for i := 0; i < 10; i++ {
		scores, truth = append(scores, 0.5), append(truth, false)
	}
	if got := ChooseThreshold(scores, truth); got != 0.52 {
		t.Errorf("precision 0.88 at 0.50: threshold %g, want 0.52", got)
	}
}

// Cross-validation scores every example by a model that never saw it: a
// phrase only a held-out fold has teaches nothing, so the figures differ
// from a model trained on everything and scored on its own data.
func TestCrossValidate(t *testing.T) {
	s := mustScorer(t)
	ex := readSet(t, "../../testdata/text/tune.tsv")
	cv, err := s.CrossValidate(ex, 4, TrainOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := cv.Tuned.All.TP + cv.Tuned.All.FP + cv.Tuned.All.FN + cv.Tuned.All.TN
	if cv.Folds != 4 || len(cv.ByFold) != 4 || n != len(ex) || len(cv.Thresholds) != len(Surfaces) {
		t.Fatalf("%d folds, %d fold figures, %d counted of %d, thresholds %v", cv.Folds, len(cv.ByFold), n, len(ex), cv.Thresholds)
	}
	md, err := s.Train(ex, TrainOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	learned, _ := New(md)
	if in := learned.Evaluate(ex).All; in == cv.Model.All {
		t.Errorf("out-of-fold figures %+v equal the in-sample ones: the folds leaked", in)
	}
	if _, err := s.CrossValidate(ex, 1, TrainOptions{}); err == nil {
		t.Error("one fold accepted")
	}
	if _, err := s.CrossValidateGroups(ex, make([]int, len(ex)), TrainOptions{}); err == nil {
		t.Error("every example in one group accepted")
	}
}

// Protective talk and feedback clear the family they would otherwise
// fire (tune5 conversations): each case fires without its clear.
func TestProtectiveTalk(t *testing.T) {
	s := mustScorer(t)
	dm13 := func(text string) Message { return Message{Text: text, Surface: DM, TargetAge: 13} }
	for _, c := range []struct{ family, neg, pos string }{
		{"image_request", "ask ur mom or dad to sign it and send me a photo", "just send me a photo, ur mom doesnt need to know"},
		{"age_probe", "how old are u? need it for the league form", "how old are u? u seem older"},
		{"secrecy", "i'll tell ur parents at conferences, they should be proud", "dont tell ur parents we talk"},
		{"secrecy", "if anyone asks u for pics, tell me right away", "if anyone asks, ur at a friends"},
		{"age_probe", "great work, ur really good at shading for ur age, keep it up", "whats ur age"},
		{"link_trade", "wanna trade? i have the golden sword and need ur dragon pet", "wanna trade pics?"},
		{"image_request", "send me a photo of ur sketchbook so i can grade it", "send me a photo of u"},
	} {
		if r := s.Score(dm13(c.neg)); fired(r, c.family) {
			t.Errorf("%s fired on %q: %+v", c.family, c.neg, r.Reasons)
		}
		if c.family == "link_trade" {
			if r := s.Score(Message{Text: c.pos, Surface: Comment}); !fired(r, c.family) {
				t.Errorf("%s did not fire on %q", c.family, c.pos)
			}
			continue
		}
		if r := s.Score(dm13(c.pos)); !fired(r, c.family) {
			t.Errorf("%s did not fire on %q: %+v", c.family, c.pos, r.Reasons)
		}
	}
	// A report phrase with a pronoun ("i reported him") marks reported
	// speech; it was a dead line before ("him/.../the account").
	if r := s.Score(Message{Text: "i reported him. he said send nudes", Surface: DM}); !r.Reported {
		t.Error(`"i reported him" not read as reported speech`)
	}
	if r := s.Score(Message{Text: "if a stranger asks you for nudes tell us", Surface: DM}); !r.Reported {
		t.Error(`"if a stranger asks you" not read as reported speech`)
	}
}

// The kinds of phrasing holdout4 and tune5 showed missing (2026-12-03),
// each family firing on a variant written here, not in the sets, and a
// hard negative of the same words staying clear of it.
func TestKindsFromTune5(t *testing.T) {
	s := mustScorer(t)
	dm13 := Message{Surface: DM, TargetAge: 13}
	dm := Message{Surface: DM}
	under := Message{Surface: Comment, OnChildContent: true}
	for _, c := range []struct {
		family string
		ctx    Message
		pos    string
		neg    string
	}{
		{"age_probe", dm13, "what time does ur dad get home from work", ""},
		{"age_probe", dm13, "does ur door have a lock on it", ""},
		{"age_probe", dm13, "r ur parents gone all day on saturday", ""},
		{"gifts", dm13, "ill send u 500 vbucks if u do what i ask", ""},
		{"gifts", dm13, "i pay 20 per pic", ""},
		{"image_request", dm13, "if u trusted me u would send one", ""},
		{"rapport", dm13, "nobody understands u like i do", ""},
		{"rapport", dm13, "ill be ur secret bestie", ""},
		{"sexual_talk", dm13, "u ever been kissed for real", ""},
		{"secrecy", dm13, "dont show ur mom our chats", ""},
		{"platform_move", dm13, "get on telegram its better", ""},
		{"threat_share", dm, "ur pics are going to ur whole school", "ur pics from the trip are going on the fridge"},
		{"extortion_demand", dm, "this goes away if u pay", ""},
		{"extortion_demand", dm, "they all paid in the end", ""},
		{"link_trade", under, "anyone got her private page", ""},
		{"sexual_remark", under, "she can sit on my lap 😏", ""},
		{"more_request", under, "where are the bikini ones", ""},
		{"lewd_emoji", under, "🥰🍆", "🥰🥰"},
		{"secrecy", dm13, "de esto ni una palabra a nadie", ""},
		{"gifts", dm13, "te paso 200 robux si me mandas algo", ""},
		{"threat_share", dm, "le mando tus fotos a todos", ""},
		{"extortion_demand", dm, "pagame o ya sabes", ""},
	} {
		m := c.ctx
		m.Text = c.pos
		if r := s.Score(m); !fired(r, c.family) {
			t.Errorf("%s: %q did not fire it: %.2f %+v", c.family, c.pos, r.Score, r.Reasons)
		}
		if c.neg != "" {
			m.Text = c.neg
			if r := s.Score(m); fired(r, c.family) || r.Flagged {
				t.Errorf("%s: hard negative %q: %.2f %+v", c.family, c.neg, r.Score, r.Reasons)
			}
		}
	}
	// Grooming words between declared adults are dating, not grooming.
	adult := Message{Text: "send me a pic before bed ❤️", Surface: DM, TargetAge: 30}
	minor := adult
	minor.TargetAge = 13
	if a, b := s.Score(adult), s.Score(minor); a.Flagged || a.Score >= b.Score {
		t.Errorf("to a declared adult %.3f (flagged %v), to a declared minor %.3f: want the adult's lower and clear", a.Score, a.Flagged, b.Score)
	}
}

// The kinds the fifth holdout's misses showed (docs/text.md), each in other
// words than the file's, beside a hard negative of the same words: a
// parent, a coach, a teacher, teens' banter, adults.
func TestKindsFromHoldout5(t *testing.T) {
	s := mustScorer(t)
	dm13 := Message{Surface: DM, TargetAge: 13}
	dmAdult := Message{Surface: DM, TargetAge: 30}
	under := Message{Surface: Comment, OnChildContent: true}
	for _, c := range []struct {
		family   string
		ctx      Message
		pos, neg string
	}{
		{"gifts", dm13, "ill send u korblox if u get on vc with me", "i got the airpods for my birthday"},
		{"gifts", dm13, "i pay 10 bucks for vids, easy money", "i pay 10 bucks for the bus every week"},
		{"secrecy", dm13, "we can talk but ur dad cant know ok", "ur dad cant come to the recital, hes working"},
		{"secrecy", dm13, "i'll keep ur secrets if u keep mine 😉", "the recipe is a family secret lol"},
		{"age_probe", dm13, "text me when ur parents r asleep", "ur parents said practice is at 5"},
		{"age_probe", dm13, "is ur laptop in ur room or downstairs", "is ur homework in ur bag"},
		{"platform_move", dm13, "join my private server tonight, just us", "the server is down for maintenance"},
		{"image_request", dm13, "turn on ur cam or no skin for u", "the cam on my phone is broken lol"},
		{"rapport", dm13, "ur too mature to be 13 honestly, ur mine now", "my little brother is 13 and so annoying"},
		{"meeting", dm13, "come by alone after school, i'll be in my car", "coach will drive the team in the van"},
		{"threat_share", Message{Surface: DM}, "ur school will receive the pics monday unless u pay", "the school will receive the forms monday"},
		{"extortion_demand", Message{Surface: DM}, "pay and i keep quiet, dont call the cops", "call the police if u see the dog loose"},
		{"sexual_remark", under, "she likes the attention 😏 good girl", "good game, she played so well"},
		{"link_trade", under, "this page is a gold mine, saving everything", "saving this recipe for later"},
		{"image_request", dm13, "mándame una foto sin el uniforme", "mándame la tarea de mate porfa"},
		{"extortion_demand", Message{Surface: DM}, "si no pagas hoy lo mando a tus amigos", "si no pagas la luz te la cortan jaja"},
	} {
		pos, neg := c.ctx, c.ctx
		pos.Text, neg.Text = c.pos, c.neg
		if r := s.Score(pos); !fired(r, c.family) {
			t.Errorf("%s: %q did not fire it: %.2f %+v", c.family, c.pos, r.Score, r.Reasons)
		}
		if r := s.Score(neg); r.Flagged {
			t.Errorf("%s: hard negative %q flagged: %.2f %+v", c.family, c.neg, r.Score, r.Reasons)
		}
	}
	// Weak words of the trading and remark kinds are evidence only beside
	// others: a parent's or a photographer's comment under a child's photo
	// stays clear.
	for _, text := range []string{"what a good girl helping her little brother", "love the angle of this shot, great photography",
		"sweet family candids from the beach day", "following for her art, shes so talented", "saving everything for the yearbook"} {
		m := under
		m.Text = text
		if r := s.Score(m); r.Flagged {
			t.Errorf("under a child's photo, %q flagged: %.3f %+v", text, r.Score, r.Reasons)
		}
	}
	// Two weak kinds together (a probe and a secret) weigh more to a
	// declared minor than the same words to an adult, who is not flagged.
	msg := "is ur laptop in ur room? dont tell ur mom we talk"
	minor, adult := dm13, dmAdult
	minor.Text, adult.Text = msg, msg
	rm, ra := s.Score(minor), s.Score(adult)
	if !rm.Flagged || ra.Flagged || !strings.Contains(rm.Reasons[0].Context, "kinds of grooming together") {
		t.Errorf("to a minor %.3f (flagged %v, %+v), to an adult %.3f (flagged %v): want the minor's flagged with the combination and the adult's clear", rm.Score, rm.Flagged, rm.Reasons, ra.Score, ra.Flagged)
	}
}

// Every phrase of every language file fires on its own words: each
// alternative of each step, written out as a message and read by the
// normaliser, matches the rule. A phrase the normaliser rewrites ("yrs"),
// a shape it cannot produce ("$" alone) or a slash written as if it held
// a phrase is a dead rule, found here rather than by its silence.
func TestEveryRuleFiresOnItself(t *testing.T) {
	s := mustScorer(t)
	emojiOf := map[string]rune{}
	for r, cat := range s.emoji {
		if old, ok := emojiOf[cat]; !ok || r < old {
			emojiOf[cat] = r
		}
	}
	checked := 0
	for _, lx := range s.langs {
		word := make([]string, len(lx.vocab))
		for w, id := range lx.vocab {
			word[id] = w
		}
		write := func(id int32) string {
			if r, ok := emojiOf[word[id]]; ok {
				return string(r)
			}
			return word[id]
		}
		for _, set := range []*ruleSet{&lx.rules, &lx.clears, &lx.kin, &lx.reports, &lx.copies} {
			for ri := range set.rules {
				r := &set.rules[ri]
				// One message with each step's first alternative, then one
				// for every other alternative of every step.
				var variants [][]string
				base := make([]string, len(r.steps))
				alts := make([][]string, len(r.steps))
				for k, st := range r.steps {
					switch st.kind {
					case stepGap:
						alts[k] = []string{""}
					case stepNum:
						alts[k] = []string{strconv.Itoa(st.lo)}
					default:
						for _, id := range st.words {
							alts[k] = append(alts[k], write(id))
						}
						for _, seq := range st.seqs {
							var ws []string
							for _, id := range seq {
								ws = append(ws, write(id))
							}
							alts[k] = append(alts[k], strings.Join(ws, " "))
						}
					}
					base[k] = alts[k][0]
				}
				for k := range r.steps {
					for _, a := range alts[k] {
						v := append([]string(nil), base...)
						v[k] = a
						variants = append(variants, v)
					}
				}
				seen := map[string]bool{}
				for _, v := range variants {
					text := strings.Join(strings.Fields(strings.Join(v, " ")), " ")
					if seen[text] {
						continue
					}
					seen[text] = true
					toks := lx.tokens(scan(text, s.emoji, nil))
					fired := false
					for i := range toks {
						if _, ok := r.match(toks, i); ok {
							fired = true
							break
						}
					}
					checked++
					if !fired {
						t.Errorf("%s: %q does not fire on %q", lx.code, r.text, text)
					}
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("checked %d phrases: the language files did not load", checked)
	}
}

// A slash holds single words; a phrase as an alternative is written with
// "_", and a slash written as if it held one is refused with its line.
func TestSlashPhrases(t *testing.T) {
	const head = "lang xx Test\nlead a\n"
	lx, err := parseLanguage(head + "rule secrecy 0.5 if anyone/a_stranger asks\n")
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]bool{
		"if anyone asks": true, "if a stranger asks": true,
		"if a asks": false, "if stranger asks": false, "if anyone stranger asks": false,
	} {
		toks := lx.tokens(scan(text, nil, nil))
		_, got := lx.rules.rules[0].match(toks, 0)
		if got != want {
			t.Errorf("%q: fired %v, want %v", text, got, want)
		}
	}
	// A phrase alternative first in the pattern is indexed by its first word.
	lx, err = parseLanguage(head + "rule secrecy 0.5 do_not/never tell\n")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	lx.rules.each(lx.tokens(scan("ok do not tell and never tell", nil, nil)), func(*rule, int, int) { n++ })
	if n != 2 {
		t.Errorf("do_not/never tell fired %d times, want 2", n)
	}
	for src, want := range map[string]string{
		"\n\nrule secrecy 0.5 i can not/do not know\n":         "line 5: \"not/do\" beside \"not\"",
		"rule secrecy 0.5 if anyone/someone/a stranger asks\n": "line 3: \"anyone/someone/a\": a lead word",
		"rule secrecy 0.5 if anyone/a_ asks\n":                 "line 3: phrase \"a_\"",
	} {
		_, err := parseLanguage(head + src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", src, err, want)
		}
	}
}

// A sextortion threat needs its object: who "will get" something is no
// threat until it is the images, a copy or the link.
func TestThreatNeedsObject(t *testing.T) {
	s := mustScorer(t)
	for _, m := range []string{
		"my friends will get pizza after the game",
		"everyone will get a medal at the end of the season",
		"ur mom will get u at 5 from practice",
	} {
		if r := s.Score(Message{Text: m, Surface: DM}); fired(r, "threat_share") {
			t.Errorf("%q: threat_share fired (%v)", m, r.Reasons)
		}
	}
	for _, m := range []string{
		"ur friends will get the pics tonight",
		"your family will get a copy of everything",
		"all ur followers will get the video if u block me",
	} {
		if r := s.Score(Message{Text: m, Surface: DM}); !fired(r, "threat_share") {
			t.Errorf("%q: threat_share did not fire (%v)", m, r.Reasons)
		}
	}
}

// A not rule clears its family in its own sentence and the next one on
// either side (its context), not in the whole message: a harmless phrase
// cannot hide a remark two sentences away.
func TestClearReachesItsSentences(t *testing.T) {
	s := mustScorer(t)
	near := Message{Surface: Comment, OnChildContent: true, Text: "hot chocolate after the game ☕"}
	if r := s.Score(near); fired(r, "sexual_remark") {
		t.Errorf("%q: sexual_remark fired (%v)", near.Text, r.Reasons)
	}
	// The emoji sentence belongs to the one before it, so the clear
	// reaches it.
	hw := Message{Surface: DM, TargetAge: 13, Text: "did u finish the math worksheet? send me a pic of question 4"}
	if r := s.Score(hw); fired(r, "image_request") {
		t.Errorf("%q: image_request fired (%v)", hw.Text, r.Reasons)
	}
	far := Message{Surface: Comment, OnChildContent: true, Text: "hot chocolate after the game ☕. great match. she is so hot 🥵"}
	r := s.Score(far)
	if !fired(r, "sexual_remark") {
		t.Fatalf("%q: sexual_remark cleared by a phrase two sentences away (%v)", far.Text, r.Reasons)
	}
	for _, re := range r.Reasons {
		for _, sp := range re.Spans {
			if re.Family == "sexual_remark" && sp.Start < strings.Index(far.Text, "she") {
				t.Errorf("%q: the cleared sentence's phrase %q still a reason", far.Text, far.Text[sp.Start:sp.End])
			}
		}
	}
	for _, c := range []struct {
		text string
		n    int
	}{{"a. b! c? d\ne; f", 5}, {"$9.99 each. ok", 1}, {"ok? 🤫", 0}, {"wh!te n.u.d.e.s", 0}, {"so… hi", 1}} {
		if got := len(sentenceEnds(c.text)); got != c.n {
			t.Errorf("sentenceEnds(%q): %d ends, want %d", c.text, got, c.n)
		}
	}
}

// A peer claim ("im 14 too") weighs by the sender's declared age: none
// from a declared minor (a peer telling the truth), support from a sender
// of unknown age (evidence only beside another phrase: a move here), full and raised
// from a declared adult (posing).
func TestPeerClaimByAuthorAge(t *testing.T) {
	s := mustScorer(t)
	for _, text := range []string{"im 14 too lol we are both bronze", "yo tambien tengo 14 jajaja"} {
		score := func(text string, author int) (float64, bool) {
			r := s.Score(Message{Text: text, Surface: DM, TargetAge: 14, AuthorAge: author})
			return r.Score, fired(r, "rapport")
		}
		peer, peerFired := score(text, 14)
		unknown, unknownFired := score(text, 0)
		adult, adultFired := score(text, 35)
		if peerFired || unknownFired || !adultFired || !(adult > unknown) {
			t.Errorf("%q: declared 14 %.3f (rapport %v), unknown %.3f (rapport %v), declared 35 %.3f (rapport %v): want rapport only from the adult",
				text, peer, peerFired, unknown, unknownFired, adult, adultFired)
		}
	}
	withMove := "im 14 too. add me on snap, its easier"
	if _, byPeer := func() (float64, bool) {
		r := s.Score(Message{Text: withMove, Surface: DM, TargetAge: 14, AuthorAge: 14})
		return r.Score, fired(r, "rapport")
	}(); byPeer {
		t.Errorf("%q from a declared 14-year-old: rapport fired", withMove)
	}
	if r := s.Score(Message{Text: withMove, Surface: DM, TargetAge: 14}); !fired(r, "rapport") {
		t.Errorf("%q from a sender of unknown age: the peer claim beside a move did not count (%v)", withMove, r.Reasons)
	}
}

// A deadline alone ("5 mins", "renews in 24 hours") is no evidence in a
// message, beside a threat it is; a signature's clear ("... love. nana")
// speaks for the whole message.
func TestSupportAndSignature(t *testing.T) {
	s := mustBuiltin(t)
	for _, m := range []Message{
		{Surface: DM, TargetAge: 13, Text: "5 mins"},
		{Surface: DM, TargetAge: 14, Text: "ok be there in 10 mins"},
		{Surface: DM, Text: "payment reminder: your gym membership renews in 24 hours"},
		{Surface: DM, TargetAge: 13, Text: "i'm 13 too lol we're both bronze"},
		{Surface: DM, TargetAge: 13, Text: "are you home alone today? mum said shes at work. call me if you need anything love. nana"},
	} {
		if r := s.Score(m); r.Flagged || r.RuleScore > 0 {
			t.Errorf("%q: flagged %v, score %.3f, rules %.3f (%v): want nothing", m.Text, r.Flagged, r.Score, r.RuleScore, r.Reasons)
		}
	}
	for _, m := range []Message{
		{Surface: DM, TargetAge: 14, Text: "send it in 10 minutes or i post it"},
		{Surface: DM, TargetAge: 14, Text: "im only 16 so its not weird"},
	} {
		if r := s.Score(m); !r.Flagged {
			t.Errorf("%q: not flagged (%.3f, %v)", m.Text, r.Score, r.Reasons)
		}
	}
}

// A compound rule fires when each of its cues matched in the message, at
// places apart and within two sentences running; no cue alone is
// evidence, and a clear of one part clears the whole.
func TestCompoundRules(t *testing.T) {
	lx, err := parseLanguage("lang xx Test\n" +
		"cue who your school/mum\ncue see see it\ncue stop or i/your\n" +
		"when threat_share 0.5 who + see + stop\nnot threat_share surprise party\n")
	if err != nil {
		t.Fatal(err)
	}
	s := &Scorer{langs: []*lexicon{lx}}
	for text, want := range map[string]bool{
		"pay or your school will see it":                    true,
		"your mum will see it. pay or i post":               true,
		"your school will see it":                           false, // no demand
		"pay or i leave":                                    false,
		"your mum said. nothing else. later. see it or i":   false, // four sentences apart
		"your mum will see it or i ruin the surprise party": false,
	} {
		r := s.Score(Message{Surface: DM, Text: text})
		got := fired(r, "threat_share")
		if got != want {
			t.Errorf("%q: fired %v, want %v (reasons %+v)", text, got, want, r.Reasons)
		}
		if got && (len(r.Reasons[0].Phrases) != 3 || r.Reasons[0].Rule != "who + see + stop") {
			t.Errorf("%q: reason %+v: want the three parts under rule who + see + stop", text, r.Reasons[0])
		}
	}
}

// The built-in compound rules find extortions no phrase lists, in English
// and Spanish, and leave alone the everyday sentences that hold one or two
// of their parts. Messages here are not in the evaluation sets.
func TestCompoundExtortion(t *testing.T) {
	s := mustScorer(t)
	for _, text := range []string{
		"be a shame if ur uni group saw this. 300 in btc by tonight",
		"i still got the clip from the call. do what i say or else",
		"o me pasas plata o tu video lo ven todos tus seguidores",
		"ya lo tengo guardado. si no pagas se entera tu familia",
	} {
		r := s.Score(Message{Surface: DM, TargetAge: 15, Text: text})
		if !r.Flagged || !slices.Contains(r.Labels, Sextortion) {
			t.Errorf("%q: flagged %v %.2f labels %v reasons %+v: want sextortion", text, r.Flagged, r.Score, r.Labels, r.Reasons)
		}
	}
	for _, text := range []string{
		"your coach wants to see it or he cant pick the team, send the form by friday",
		"pay for the trip by friday or your spot goes to the next kid on the list",
		"la niñera llega a las 7, pórtense bien tú y tu hermano",
		"tu abuela te mandó plata para tu cumple, la tiene tu mamá",
	} {
		if r := s.Score(Message{Surface: DM, TargetAge: 15, Text: text}); r.Flagged {
			t.Errorf("hard negative %q: flagged %.2f reasons %+v", text, r.Score, r.Reasons)
		}
	}
}

// A sexual emoji beside the body, the age or a moment of a child's video
// is a remark about the child; beside "she" or "the kids" it is the pool,
// the weather or the harvest. Messages here are not in the evaluation sets.
func TestLewdEmojiOfThePersonShown(t *testing.T) {
	s := mustScorer(t)
	for _, text := range []string{"look at 0:12, replay it 🥵", "those legs on a 10 year old 🍑", "so grown for 11 😏"} {
		r := s.Score(Message{Surface: Comment, OnChildContent: true, Text: text})
		if !r.Flagged || !slices.ContainsFunc(r.Reasons, func(re Reason) bool { return re.Rule == "lewdmoji + shown" }) {
			t.Errorf("%q: flagged %v %.2f reasons %+v: want the compound lewdmoji + shown", text, r.Flagged, r.Score, r.Reasons)
		}
	}
	for _, text := range []string{"splash zone at her party 💦 she loved it", "corn harvest with the kids 🌽", "the gym was so hot today 🥵 she still won"} {
		r := s.Score(Message{Surface: Comment, OnChildContent: true, Text: text})
		if slices.ContainsFunc(r.Reasons, func(re Reason) bool { return re.Rule == "lewdmoji + shown" }) {
			t.Errorf("hard negative %q: reasons %+v", text, r.Reasons)
		}
	}
}
