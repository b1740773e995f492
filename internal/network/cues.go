package network

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// AdultAge is the age from which a declared or stated age is not a child's.
const AdultAge = 18

// Bio cues that an account belongs to a child, in English and Spanish. They
// are deliberately narrow: a stated age needs a unit that means age ("11
// y/o", "9 years old", "12 años"), so "11 years of coaching" and "U12 team"
// are not cues; a parent-run account needs the account (or page) to be
// run by a parent, so "mum of 3" is not one.
var (
	ageCue  = regexp.MustCompile(`(?i)(?:^|[^\d])(\d{1,2})\s*(?:y/o|y\.o\.|yo\b|yrs? old|years? old|años|añitos|anos\b)`)
	ageSaid = regexp.MustCompile(`(?i)\b(?:i'?m|i am|aged?|tengo|edad:?)\s+(\d{1,2})\b`)
	runBy   = regexp.MustCompile(`(?i)\b(?:account|acc|page|profile|ig|insta)\s+(?:is\s+)?(?:run|managed|monitored|handled|ran|owned)\s+by\s+(?:my\s+|her\s+|his\s+|their\s+|our\s+)?(?:mum|mom|mommy|mummy|mother|mama|mamá|dad|daddy|father|papa|papá|parents?)` +
		`|\b(?:parent|mum|mom|mama)[- ](?:run|managed)\b` +
		`|\bcuenta\s+(?:manejada|administrada|gestionada|llevada|supervisada|controlada)\s+por\s+(?:mi\s+|su\s+|sus\s+)?(?:mam[aá]|madre|pap[aá]|padre|padres)`)
)

// childCue returns why an account looks like a child's, or "" when nothing
// says so. A declared age of 18 or more wins over the bio: platforms ask for
// it, and adults joke ("I'm 12 at heart").
func childCue(declaredAge int, bio string) string {
	if declaredAge >= AdultAge {
		return ""
	}
	if declaredAge > 0 {
		return fmt.Sprintf("declared age %d", declaredAge)
	}
	if _, m := bioChildAge(bio); m != "" {
		return fmt.Sprintf("bio says %q", m)
	}
	if m := runBy.FindString(bio); m != "" {
		return fmt.Sprintf("bio says %q", m)
	}
	return ""
}

// UnknownChildAge is the age given to the comment scorer for a child whose
// account states none (an account run by a parent): the oldest a child can
// be, so that the scorer treats the target as a minor without claiming a
// younger age than anything says. Scorers that weigh a minor target (as
// internal/textrisk does) would otherwise miss the comment a child with a
// stated age draws.
const UnknownChildAge = AdultAge - 1

// childAge is the age of a child account, one for which childCue says why:
// declared, else the first age its bio states, else UnknownChildAge.
func childAge(declaredAge int, bio string) int {
	if declaredAge > 0 && declaredAge < AdultAge {
		return declaredAge
	}
	if n, _ := bioChildAge(bio); n > 0 {
		return n
	}
	return UnknownChildAge
}

// bioChildAge returns the first child's age a bio states and the words
// that state it, or 0 and "".
func bioChildAge(bio string) (int, string) {
	for _, re := range []*regexp.Regexp{ageCue, ageSaid} {
		for _, m := range re.FindAllStringSubmatch(bio, -1) {
			if n, err := strconv.Atoi(m[1]); err == nil && n > 0 && n < AdultAge {
				return n, strings.TrimSpace(m[0])
			}
		}
	}
	return 0, ""
}

// statedAdult reports whether an account states an adult age, declared or
// in its bio ("24 y/o", "tengo 30 años").
func statedAdult(declaredAge int, bio string) bool {
	if declaredAge >= AdultAge {
		return true
	}
	for _, re := range []*regexp.Regexp{ageCue, ageSaid} {
		for _, m := range re.FindAllStringSubmatch(bio, -1) {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= AdultAge {
				return true
			}
		}
	}
	return false
}

// Words others use of the person in an image that say the person is a
// child, in English and Spanish: "so mature for her age", "our little
// star", "growing up so fast", "she's 12", "her 9th birthday", "para su
// edad", "princesita". A network reveals what it takes its targets for
// in these words, and relatives do in theirs, so an account that states
// no age is taken for a child's when two or more voices say so of its
// images (youthVoices). Like the bio cues they are narrow: "little" needs
// a word for a child or a pet name after it ("little thing", not "a
// little late"), an age needs to be said of her or him or to have a unit.
var youthCue = regexp.MustCompile(`(?i)\bfor (?:her|his|their|your) age\b` +
	`|\b(?:little|lil|tiny|young) (?:girl|boy|one|lady|princess|thing|model|dancer|angel|star|miss|cutie|gymnast|ballerina|darling)s?\b` +
	`|\b(?:too|very) young\b|\bgrowing up (?:so |too )?(?:fast|nicely|well|quick(?:ly)?)\b|\b(?:all|so) grown up\b` +
	`|\b(?:she|he)(?:'s|’s| is|s) (?:only |just |barely )?(\d{1,2})\b(?: (?:y/o|yo|years?(?: old)?|yrs?))?` +
	`|\b(\d{1,2})(?:st|nd|rd|th) (?:birthday|bday|grade)\b|\bschool ?girl\b|\bjail ?bait\b` +
	`|\bpara su edad\b|\b(?:niñita|nenita|princesita|chiquitita|pequeñita)\b` +
	`|\b(?:mi|nuestra|qué|que|tan|muy|esta) (?:peque|pequeña|chiquita|niña)\b|\b(?:tan|muy) (?:joven|jovencita)\b` +
	`|\bjovencita\b|\b(?:est[aá]|ya) (?:muy |tan )?(?:grande|creciendo)\b|\bcumple(?:años)? (?:n[uú]mero )?(\d{1,2})\b`)

// youthSaid returns the words of text that speak of a child, or "".
func youthSaid(text string) string {
	for _, m := range youthCue.FindAllStringSubmatchIndex(text, -1) {
		if n, ok := capturedAge(text, m); ok && (n == 0 || n >= AdultAge) {
			continue // "she's 25", "21st birthday": an adult
		}
		return strings.TrimSpace(text[m[0]:m[1]])
	}
	// An age with its unit ("12 y/o 😍"); not "I'm 13", which is the
	// writer's own.
	for _, m := range ageCue.FindAllStringSubmatch(text, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 && n < AdultAge {
			return strings.TrimSpace(m[0])
		}
	}
	return ""
}

// capturedAge returns the number a youthCue match captured, if any.
func capturedAge(text string, m []int) (int, bool) {
	for g := 1; g < len(m)/2; g++ {
		if m[2*g] >= 0 {
			n, err := strconv.Atoi(text[m[2*g]:m[2*g+1]])
			return n, err == nil
		}
	}
	return 0, false
}

// minVoices is how many accounts must speak of an account's images as a
// child's before an account that states no age is taken for a child's.
const minVoices = 2
