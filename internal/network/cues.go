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
