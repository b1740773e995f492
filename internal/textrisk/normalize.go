package textrisk

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// A token is one normalised word, number or emoji of a message, with the
// byte span of the original text it came from.
type token struct {
	text       string
	id         int32 // in the language's vocabulary, or -1
	num        int   // the value of a number token, or -1
	start, end int
	// obf says the word was disguised: leetspeak, homoglyphs of other
	// scripts, fancy-font letters, zero-width characters inside it, or
	// typed a letter at a time. Nobody disguises "send pics" innocently.
	obf bool
	// unit says the word is the unit of the number before it ("3pm",
	// "5k", "2nd"): a time, a price or an ordinal, never a shorthand, so
	// the language's abbreviations ("pm" for message) do not apply.
	unit bool
	// brk says a sentence ended ('.', '!', '?', ';', a newline) between
	// the token before and this one.
	brk bool
}

// MaxText bounds the bytes of a message that are scored; the rest is
// ignored (and the Result's spans never point past it). Chat messages and
// comments are far shorter; a bio pasted a thousand times is not worth
// more CPU.
const MaxText = 8 << 10

// scan splits text into raw words (lower-case ASCII letters, digits and
// the symbols leetspeak uses) and emoji, undoing the Unicode tricks that
// need no vocabulary: case, confusables and homoglyphs, accents and
// compatibility forms (fullwidth, mathematical bold, circled letters),
// combining marks, zero-width characters inside words.
func scan(text string, emoji map[rune]string, out []token) []token {
	if len(text) > MaxText {
		text = text[:MaxText]
	}
	var word []byte
	start, end, obf, brk := -1, 0, false, false
	flush := func() {
		if start >= 0 && len(word) > 0 {
			out = append(out, token{text: string(word), id: -1, num: -1, start: start, end: end, obf: obf, brk: brk})
			brk = false
		}
		word, start, obf = word[:0], -1, false
	}
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		pos := i
		i += size
		if r < utf8.RuneSelf {
			c := byte(r)
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case c == '@' || c == '$' || c == '!' || c == '|' || c == '+':
				// Leetspeak letters inside a word; alone they are
				// dropped when the word is read.
			case c == '\'':
				if start >= 0 {
					continue // "don't" is one word
				}
				flush()
				continue
			default:
				flush()
				brk = brk || c == '.' || c == '!' || c == '?' || c == ';' || c == '\n'
				continue
			}
			if start < 0 {
				start = pos
			}
			word = append(word, c)
			end = i
			continue
		}
		if invisible(r) {
			if start >= 0 && !unicode.Is(unicode.Mn, r) && r != 0xFE0F {
				obf = true
			}
			continue
		}
		if e, ok := emoji[r]; ok {
			flush()
			out = append(out, token{text: e, id: -1, num: -1, start: pos, end: i})
			continue
		}
		if r == '’' || r == 'ʼ' || r == '‘' {
			if start >= 0 {
				continue
			}
			flush()
			continue
		}
		c := fold(r)
		if c == 0 {
			flush()
			continue
		}
		if start < 0 {
			start = pos
		}
		if !unicode.Is(unicode.Latin, r) || r >= 0xFF00 || 0x0250 <= r && r <= 0x1DBF {
			obf = true // Cyrillic, Greek, small-capital, mathematical or fullwidth letters
		}
		word = append(word, c)
		end = i
	}
	flush()
	return out
}

// invisible reports runes that change nothing a reader sees between
// letters: zero-width spaces and joiners, soft hyphens, variation
// selectors, skin-tone modifiers, tag characters and combining marks (so
// "s̶e̶n̶d̶" reads "send").
func invisible(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x180E,
		0x200B <= r && r <= 0x200F, 0x202A <= r && r <= 0x202E,
		0x2060 <= r && r <= 0x2064, r == 0xFEFF,
		0xFE00 <= r && r <= 0xFE0F, 0x1F3FB <= r && r <= 0x1F3FF,
		0xE0000 <= r && r <= 0xE007F:
		return true
	}
	return unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r)
}

// confusables are letters of other scripts that look like Latin ones, the
// homoglyphs used to slip past word filters. Compatibility forms
// (fullwidth, mathematical alphanumerics, circled letters) and accents are
// left to NFKD.
var confusables = map[rune]byte{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w',
	'һ': 'h', 'ӏ': 'l', 'ь': 'b', 'г': 'r', 'п': 'n', 'и': 'u', 'л': 'n', 'д': 'd',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
	'υ': 'u', 'χ': 'x', 'γ': 'y', 'ω': 'w', 'σ': 'o', 'ς': 's', 'μ': 'u', 'λ': 'a', 'δ': 'd', 'π': 'n',
	// Latin lookalikes NFKD leaves alone
	'ı': 'i', 'ł': 'l', 'ø': 'o', 'đ': 'd', 'ħ': 'h', 'ŧ': 't', 'ß': 's', 'æ': 'a', 'œ': 'o', 'ɑ': 'a',
	'ɡ': 'g', 'ɪ': 'i', 'ʀ': 'r', 'ᴀ': 'a', 'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd', 'ᴇ': 'e', 'ɢ': 'g', 'ʜ': 'h',
	'ᴊ': 'j', 'ᴋ': 'k', 'ʟ': 'l', 'ᴍ': 'm', 'ɴ': 'n', 'ᴏ': 'o', 'ᴘ': 'p', 'ꜱ': 's', 'ᴛ': 't', 'ᴜ': 'u',
	'ᴠ': 'v', 'ᴡ': 'w', 'ʏ': 'y', 'ᴢ': 'z', '€': 'e', '¢': 'c', '£': 'l', '¥': 'y', '©': 'c', '®': 'r',
}

// fold maps a non-ASCII rune to the ASCII letter or digit it passes for,
// or 0 when it is not one (punctuation, symbols, other scripts).
func fold(r rune) byte {
	if c, ok := confusables[r]; ok {
		return c
	}
	if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsSymbol(r) {
		return 0
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	d := norm.NFKD.Bytes(buf[:n])
	if len(d) == 0 {
		return 0
	}
	c := d[0]
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return c
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	}
	if first, _ := utf8.DecodeRune(d); first != r {
		if c, ok := confusables[first]; ok {
			return c
		}
	}
	return 0
}

// leet are the digits and symbols read as letters inside a word.
var leet = [128]byte{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g',
	'@': 'a', '$': 's', '!': 'i', '|': 'l', '+': 't'}

// ageSuffix are what follows a number without being leetspeak: "13yo",
// "14f", "9th", "2pm".
var ageSuffix = map[string]bool{"yo": true, "y": true, "yr": true, "yrs": true, "yro": true, "f": true, "m": true,
	"th": true, "st": true, "nd": true, "rd": true, "am": true, "pm": true, "k": true, "s": true, "x": true,
	"ano": true, "anos": true, "a": true, "o": true, "h": true, "hr": true, "hrs": true, "min": true, "mins": true}

// ageUnit are the suffixes that say "years old" ("13yo", "14y", "12yr"):
// read as "yo", which the languages expand. Every other suffix is a unit
// (token.unit) and kept as written.
var ageUnit = map[string]bool{"yo": true, "y": true, "yr": true, "yro": true, "yrs": true}

// timeUnit are the suffixes that are shorthands of units ("5min", "1hr"),
// which the languages expand as they would standing alone.
var timeUnit = map[string]bool{"h": true, "hr": true, "hrs": true, "min": true, "mins": true}

// isUnit reports whether w, following a number, is its unit and no
// shorthand: "3 pm", "5 k", "2 nd" read as one would "3pm".
func isUnit(w string) bool { return ageSuffix[w] && !ageUnit[w] && !timeUnit[w] }

// readWord turns a raw word into tokens: a number, a number and its
// suffix, or letters with leetspeak undone. Abbreviations made of digits
// ("gr8", "4u") are looked up first, by the caller.
func readWord(t token, out []token) []token {
	// Byte offsets within the word are offsets in the text only when
	// every letter was ASCII there; otherwise parts keep the whole span.
	ascii := t.end-t.start == len(t.text)
	// Mentions and punctuation around a word are not leetspeak.
	for len(t.text) > 1 && strings.IndexByte("@!|+", t.text[0]) >= 0 {
		t.text = t.text[1:]
		if ascii {
			t.start++
		}
	}
	for len(t.text) > 1 && strings.IndexByte("!|+@", t.text[len(t.text)-1]) >= 0 {
		t.text = t.text[:len(t.text)-1]
		if ascii {
			t.end--
		}
	}
	w := t.text
	letters, digits, symbols := 0, 0, 0
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case 'a' <= c && c <= 'z':
			letters++
		case '0' <= c && c <= '9':
			digits++
		default:
			symbols++
		}
	}
	switch {
	case letters == 0 && digits == 0:
		if strings.Trim(w, "$") == "" {
			// "$ for access", "$$$": money, which rules name as $.
			return append(out, token{text: "$", id: -1, num: -1, start: t.start, end: t.end})
		}
		return out
	case letters == 0:
		// "$50", "18+", "13": the number is what counts.
		n, money := 0, w[0] == '$'
		var digitsOnly []byte
		for i := 0; i < len(w); i++ {
			if c := w[i]; '0' <= c && c <= '9' {
				digitsOnly = append(digitsOnly, c)
				if n < 1e9 {
					n = n*10 + int(c-'0')
				}
			}
		}
		if money {
			out = append(out, token{text: "$", id: -1, num: -1, start: t.start, end: t.end})
		}
		return append(out, token{text: string(digitsOnly), id: -1, num: n, start: t.start, end: t.end})
	case digits > 0 && symbols == 0:
		i := 0
		for i < len(w) && '0' <= w[i] && w[i] <= '9' {
			i++
		}
		if i > 0 && i == digits && ageSuffix[w[i:]] {
			n := 0
			for _, c := range w[:i] {
				if n < 1e9 {
					n = n*10 + int(c-'0')
				}
			}
			end, start := t.end, t.start
			if ascii {
				end, start = t.start+i, t.start+i
			}
			suffix := token{text: w[i:], id: -1, num: -1, start: start, end: t.end, unit: isUnit(w[i:])}
			if ageUnit[suffix.text] && suffix.text != "yrs" {
				suffix.text = "yo"
			}
			return append(out, token{text: w[:i], id: -1, num: n, start: t.start, end: end}, suffix)
		}
	}
	if digits > 0 || symbols > 0 {
		b := make([]byte, 0, len(w))
		for i := 0; i < len(w); i++ {
			c := w[i]
			if l := leet[c]; l != 0 {
				c = l
			}
			b = append(b, c)
		}
		t.text, t.obf = string(b), true
	}
	return append(out, t)
}

// collapse shortens runs of three or more of a letter ("sooooo",
// "pleeease") to two or to one, whichever the vocabulary knows, else to
// one; and a word the vocabulary does not know ending in a doubled letter
// ("hott") to one.
func collapse(w string, known func(string) bool) string {
	run := false
	for i := 2; i < len(w); i++ {
		if w[i] == w[i-1] && w[i] == w[i-2] {
			run = true
			break
		}
	}
	if !run {
		if n := len(w); n > 3 && w[n-1] == w[n-2] && !known(w) && known(w[:n-1]) {
			return w[:n-1]
		}
		return w
	}
	if known(w) {
		return w // "mmm" is a word of its own
	}
	if three := squeeze(w, 3); known(three) {
		return three
	}
	two, one := squeeze(w, 2), squeeze(w, 1)
	if known(two) {
		return two
	}
	if n := len(two); !known(one) && n > 3 && two[n-1] == two[n-2] && known(two[:n-1]) {
		return two[:n-1]
	}
	return one
}

// squeeze keeps at most max of each run of a letter.
func squeeze(w string, max int) string {
	b := make([]byte, 0, len(w))
	n := 0
	for i := 0; i < len(w); i++ {
		if i > 0 && w[i] == w[i-1] {
			n++
		} else {
			n = 1
		}
		if n <= max {
			b = append(b, w[i])
		}
	}
	return string(b)
}
