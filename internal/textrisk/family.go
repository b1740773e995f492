package textrisk

// The categories a family belongs to: a Result's labels.
const (
	Grooming      = "grooming"
	Sextortion    = "sextortion"
	SexualComment = "sexual_comment"
)

// Labels lists the categories, in the order reports print them.
var Labels = []string{Grooming, Sextortion, SexualComment}

// A family is one kind of evidence. Families are the same in every
// language; the language files give the phrases that show them.
type family struct {
	name, label, about string
	// minor, dm, public and child scale the family's odds: on text to a
	// declared minor, in a DM, on a public surface (comment, caption,
	// bio), and on text attached to content that shows a child. Grooming
	// happens in private messages, sexualised comments under photos.
	minor, dm, public, child float64
	// alone scales the family's odds when it is the only evidence in a
	// message with no context that raises it (no declared minor, not on
	// content showing a child): one phrase of a kind that harmless talk
	// also uses ("dont tell anyone", "ill post the photos", "selling")
	// is weaker evidence than the same phrase beside another kind.
	alone float64
}

// nFamilies is len(families), as a constant for arrays.
const nFamilies = 14

var families = [nFamilies]family{
	{"age_probe", Grooming, "asks age, school, whether alone or where the parents are", 2.0, 1, 0.5, 1.5, 1},
	{"secrecy", Grooming, "asks for secrecy or for messages to be deleted", 2.0, 1, 0.6, 1.5, 0.6},
	{"platform_move", Grooming, "moves the talk to another app, a private account or vanish mode", 2.0, 1, 0.8, 1.5, 0.6},
	{"gifts", Grooming, "offers gifts, money or game currency", 2.0, 1, 0.7, 1.5, 0.8},
	{"image_request", Grooming, "asks for pictures, video or the camera", 2.0, 1, 0.6, 1.5, 0.8},
	{"sexual_talk", Grooming, "sexual talk aimed at the person addressed", 3.0, 1, 0.8, 2.5, 1},
	{"meeting", Grooming, "proposes meeting in person, alone", 2.0, 1, 0.6, 1.5, 0.6},
	{"rapport", Grooming, "poses as a peer, flatters maturity, claims exclusive closeness, sets against family", 2.0, 1, 0.6, 1.5, 0.8},
	{"threat_share", Sextortion, "threatens to share images or expose", 1.5, 1, 1.0, 1.0, 0.5},
	{"extortion_demand", Sextortion, "demands money or more images under pressure", 1.5, 1, 1.0, 1.0, 0.6},
	{"sexual_remark", SexualComment, "sexual remark about the person shown", 2.0, 0.5, 1.0, 3.0, 1},
	{"lewd_emoji", SexualComment, "sexualised emoji", 1.5, 0.5, 0.8, 4.0, 1},
	{"more_request", SexualComment, "asks for more images of the person shown", 1.5, 0.5, 1.0, 3.0, 0.7},
	{"link_trade", SexualComment, "asks for links, offers trades or sells content", 1.5, 0.5, 1.2, 2.5, 0.5},
}

// familyIndex maps a family's name to its index in families.
var familyIndex = func() map[string]int {
	m := make(map[string]int, len(families))
	for i, f := range families {
		m[f.name] = i
	}
	return m
}()
