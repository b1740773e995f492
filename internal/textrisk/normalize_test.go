package textrisk

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// words is what the normaliser reads text as, in English.
func words(t *testing.T, s *Scorer, text string) string {
	t.Helper()
	var ws []string
	for _, tk := range s.langs[0].tokens(scan(text, s.emoji, nil)) {
		ws = append(ws, tk.text)
	}
	return strings.Join(ws, " ")
}

// Each trick, alone, reads back as the plain words.
func TestNormaliseTricks(t *testing.T) {
	s := mustScorer(t)
	for _, c := range []struct{ trick, in, want string }{
		{"case", "SeNd PiCs", "send pics"},
		{"cyrillic homoglyphs", "ѕеnd рiсѕ", "send pics"},
		{"greek homoglyphs", "nυdεs", "nudes"},
		{"fullwidth", "ｓｅｎｄ ｐｉｃｓ", "send pics"},
		{"mathematical bold", "𝐬𝐞𝐧𝐝 𝐩𝐢𝐜𝐬", "send pics"},
		{"mathematical script", "𝓈𝑒𝓃𝒹", "send"},
		{"circled", "ⓢⓔⓝⓓ", "send"},
		{"small capitals", "ᴅᴇʟᴇᴛᴇ", "delete"},
		{"accents", "sénd pícs", "send pics"},
		{"combining strike-through", "s̶e̶n̶d̶", "send"},
		{"leetspeak digits", "s3nd p1cs", "send pics"},
		{"leetspeak symbols", "$end p!c$", "send pics"},
		{"leetspeak at", "wh@t", "what"},
		{"spaced letters", "s e n d p i c s", "send pics"},
		{"dotted letters", "n.u.d.e.s", "nudes"},
		{"dashed letters", "d-e-l-e-t-e", "delete"},
		{"repeated letters", "pleeeease seeeend", "please send"},
		{"repeated letters keep doubles", "goooood", "good"},
		{"zero-width space", "nu\u200bdes", "nudes"},
		{"zero-width joiner and soft hyphen", "de\u200dle\u00adte", "delete"},
		{"abbreviations", "r u home? pls", "are you home please"},
		{"abbreviation with digits", "gr8 2nite", "great tonight"},
		{"contractions", "don't", "do not"},
		{"curly apostrophe", "don’t", "do not"},
		{"age with suffix", "13yo", "13 years old"},
		{"age with short suffix", "14y and 12yr", "14 years old and 12 years old"},
		{"age with yrs", "in 2yrs", "in 2 years"},
		{"money", "$50", "$ 50"},
		{"emoji token", "hot 🥵🍑", "hot <lewd> <lewd>"},
		{"emoji skin tone dropped", "🤳🏽", "<camera>"},
		{"other emoji dropped", "ok 🎈 ok", "ok ok"},
	} {
		if got := words(t, s, c.in); got != c.want {
			t.Errorf("%s: %q reads %q, want %q", c.trick, c.in, got, c.want)
		}
	}
}

// Spaced letters that spell no words stay letters: "r u a" is not "rua".
func TestSpacedLettersNeedWords(t *testing.T) {
	s := mustScorer(t)
	if got := words(t, s, "r u a"); got != "are you a" {
		t.Fatalf("%q", got)
	}
}

// A disguised phrase is stronger evidence than the plain one.
func TestDisguiseRaisesScore(t *testing.T) {
	s := mustScorer(t)
	plain := s.Score(Message{Text: "send pics", Surface: DM})
	for _, d := range []string{"s3nd p1cs", "ѕеnd рiсѕ", "s e n d p i c s", "se\u200bnd pi\u200bcs"} {
		r := s.Score(Message{Text: d, Surface: DM})
		if r.Score <= plain.Score || len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0].Context, "disguised") {
			t.Errorf("%q: %.3f %+v: want above the plain %.3f, with the disguise named", d, r.Score, r.Reasons, plain.Score)
		}
	}
}

// Spans point into the original text, whatever the normaliser undid.
func TestSpansPointIntoText(t *testing.T) {
	s := mustScorer(t)
	for _, text := range []string{
		"ѕеnd mе а рiс", "hey 🥵🥵 more of her", "dont tell ur mom ok?", "s e n d  n u d e s", "i'm 13yo, r u alone?",
		"ｓｅｎｄ ｎｕｄｅｓ", "pásame el pack 😏", "nu\u200bdes",
	} {
		r := s.Score(Message{Text: text, Surface: Comment, OnChildContent: true})
		if len(r.Reasons) == 0 {
			t.Errorf("%q: no reasons", text)
		}
		for _, re := range r.Reasons {
			for i, sp := range re.Spans {
				if sp.Start < 0 || sp.End > len(text) || sp.Start >= sp.End || !utf8.ValidString(text[sp.Start:sp.End]) {
					t.Fatalf("%q: span %+v", text, sp)
				}
				if text[sp.Start:sp.End] != re.Phrases[i] {
					t.Fatalf("%q: phrase %q for span %+v", text, re.Phrases[i], sp)
				}
			}
		}
	}
}

func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"s3nd p1cs", "ѕеnd", "s e n d", "🥵🍑", "13yo", "$50", "don't", "n\u200bu", "𝐬", "aaaaaaa", "", "\xff\xfe"} {
		f.Add(s)
	}
	s, err := New(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r := s.Score(Message{Text: text, Surface: Comment, OnChildContent: true, TargetAge: 12})
		if r.Score < 0 || r.Score > 1 {
			t.Fatalf("score %v", r.Score)
		}
		n := min(len(text), MaxText)
		for _, re := range r.Reasons {
			for _, sp := range re.Spans {
				if sp.Start < 0 || sp.End > n || sp.Start >= sp.End {
					t.Fatalf("span %+v of %d bytes", sp, n)
				}
			}
		}
		c := s.NewConversation()
		c.Add(Turn{Author: "a", Message: Message{Text: text}})
		if cr := c.Result(); cr.Score < 0 || cr.Score > 1 {
			t.Fatalf("conversation score %v", cr.Score)
		}
	})
}

// Two swapped letters read as the word they spell swapped back, when the
// word is unknown and there is one such reading; known words, names and
// numbers stay as typed, and the typo is not counted as disguise.
func TestTranspositionTypos(t *testing.T) {
	s := mustScorer(t)
	for _, c := range []struct{ in, want string }{
		{"sned me a pic", "send me a pic"},
		{"how odl r u", "how old are you"},
		{"its our secert", "its our secret"},
		{"the form is from mom", "the form is from mom"}, // both known: kept
		{"ask mrak and jnae", "ask mrak and jnae"},       // no reading: kept
		{"see u tmrw", "see you tomorrow"},
	} {
		if got := words(t, s, c.in); got != c.want {
			t.Errorf("%q read as %q, want %q", c.in, got, c.want)
		}
	}
	r := s.Score(Message{Text: "its our secert, dont tell ur mom", Surface: DM, TargetAge: 13})
	if !r.Flagged || r.Reasons[0].disguised {
		t.Errorf("typo'd secrecy to a minor: %.3f %+v: want flagged, not as disguise", r.Score, r.Reasons)
	}
	if r := s.Score(Message{Text: "sned me the homework page", Surface: DM, TargetAge: 13}); r.Flagged {
		t.Errorf("typo'd homework request flagged: %.3f %+v", r.Score, r.Reasons)
	}
}

// A number's unit is not a shorthand: "3pm" is a time, not "3 message";
// "5k" a price, not "5 ok"; in Spanish "2nd" is an ordinal, not "2 nada".
func TestUnitsAreNotAbbreviations(t *testing.T) {
	s := mustScorer(t)
	for _, c := range []struct{ in, want string }{
		{"see u at 3pm", "see you at 3 pm"},
		{"see u at 3 pm", "see you at 3 pm"},
		{"10am", "10 am"},
		{"5k followers", "5 k followers"},
		{"2nd place", "2 nd place"},
		{"the 9th grade", "the 9 th grade"},
		{"14f", "14 f"},
		// Units that are shorthands of units still read as the unit.
		{"reply in 5min", "reply in 5 minutes"},
		{"in 1 hr", "in 1 hour"},
		// Without a number before it the shorthand is read as before.
		{"pm me", "message me"},
	} {
		if got := words(t, s, c.in); got != c.want {
			t.Errorf("%q reads %q, want %q", c.in, got, c.want)
		}
	}
	var es *lexicon
	for _, lx := range s.langs {
		if lx.code == "es" {
			es = lx
		}
	}
	if es == nil {
		t.Fatal("no Spanish lexicon")
	}
	var ws []string
	for _, tk := range es.tokens(scan("quedo 2nd y 3x", s.emoji, nil)) {
		ws = append(ws, tk.text)
	}
	if got, want := strings.Join(ws, " "), "quedo 2 nd y 3 x"; got != want {
		t.Errorf("Spanish %q reads %q, want %q", "quedo 2nd y 3x", got, want)
	}
	// The defect as a reviewer met it: a time read as a DM request.
	// ("3pm me" was "3 message me": platform_move fired.)
	for _, m := range []string{"free after 3pm me and mom are going shopping", "pickup at 3 pm me and dad will wait"} {
		for _, r := range s.Score(Message{Text: m, Surface: DM}).Reasons {
			if r.Family == "platform_move" {
				t.Errorf("%q: %s fired on a time (%v)", m, r.Family, r.Phrases)
			}
		}
	}
}

// "ye" is chat's "yes" alone, at a sentence's end or before what follows
// a yes, and Scots and Irish "you" after a word that takes a subject or
// object or before a verb.
func TestYeByContext(t *testing.T) {
	s := mustScorer(t)
	for in, want := range map[string]string{
		"ye":                      "yes",
		"ye i can":                "yes i can",
		"ye lol see u at 5":       "yes lol see you at 5",
		"ok ye. see u":            "ok yes see you",
		"how auld are ye noo":     "how old are you now",
		"wee photo fae ye":        "wee photo fae you",
		"ye look aulder":          "you look older",
		"does yer maw let ye oot": "does your mom let you out",
	} {
		if got := words(t, s, in); got != want {
			t.Errorf("%q reads %q, want %q", in, got, want)
		}
	}
}

// A disguised message is read in the language of the words it disguises:
// one Spanish "la" after "s3nd p1cs" does not make it Spanish, since the
// words are counted as they read back, not as written.
func TestDisguisedWordsChooseTheLanguage(t *testing.T) {
	s := mustScorer(t)
	for _, text := range []string{"s3nd p1cs la", "s3nd m3 p1cs la"} {
		r := s.Score(Message{Surface: DM, TargetAge: 13, Text: text})
		if r.Language != "en" || !fired(r, "image_request") {
			t.Errorf("%q: read as %s, reasons %+v: want English and a picture request", text, r.Language, r.Reasons)
		}
	}
}
