package network

import "testing"

func TestChildCue(t *testing.T) {
	for _, tc := range []struct {
		bio   string
		age   int
		child bool
	}{
		{"Lily 🌸 9 y/o", 0, true},
		{"dancer 💃 11yo", 0, true},
		{"Mia, 10 years old", 0, true},
		{"gymnastics | account managed by my mom", 0, true},
		{"page run by her parents ✨", 0, true},
		{"mum-run account", 0, true},
		{"Valentina 12 años 🎀", 0, true},
		{"Cuenta manejada por mamá 💕", 0, true},
		{"cuenta administrada por mi mamá", 0, true},
		{"I'm 13 | volleyball", 0, true},
		{"tengo 10 y me gusta bailar", 0, true},
		{"", 12, true},
		{"anything", 9, true},
		// Near misses and adults.
		{"mum of 3 💕", 0, false},
		{"11 years in marketing", 0, false},
		{"U12 coach on weekends ⚽", 0, false},
		{"St. Mary's Primary School – ages 4-11", 0, false},
		{"35 y/o and still learning guitar", 0, false},
		{"I'm 42 and I love gardening", 0, false},
		{"modelo | 26 años", 0, false},
		{"9 y/o at heart", 30, false}, // a declared adult age wins
		{"papá de dos", 0, false},
	} {
		got := childCue(tc.age, tc.bio)
		if (got != "") != tc.child {
			t.Errorf("childCue(%d, %q) = %q; want child %v", tc.age, tc.bio, got, tc.child)
		}
	}
	if !statedAdult(0, "fitness & travel | 24 y/o") || !statedAdult(19, "") || statedAdult(0, "dancer 11yo") || statedAdult(0, "daily memes") {
		t.Error("statedAdult misreads a stated age")
	}
}

func FuzzChildCue(f *testing.F) {
	f.Add("Lily 9 y/o | account run by mum", 0)
	f.Add("cuenta manejada por mamá 12 años", 0)
	f.Fuzz(func(t *testing.T, bio string, age int) {
		if age >= AdultAge && childCue(age, bio) != "" {
			t.Fatalf("declared adult age %d gave a child cue", age)
		}
	})
}

func TestChildAge(t *testing.T) {
	for _, tc := range []struct {
		age  int
		bio  string
		want int
	}{
		{11, "", 11},
		{0, "Lily 🌸 9 y/o | account run by mum", 9},
		{0, "I'm 13 | volleyball", 13},
		{0, "account run by mum", UnknownChildAge},
		{0, "Cuenta manejada por mamá 💕", UnknownChildAge},
	} {
		if got := childAge(tc.age, tc.bio); got != tc.want {
			t.Errorf("childAge(%d, %q) = %d, want %d", tc.age, tc.bio, got, tc.want)
		}
	}
}

func TestYouthSaid(t *testing.T) {
	for _, tc := range []struct {
		text  string
		child bool
	}{
		{"so mature for her age 😏", true},
		{"our little star 🌟", true},
		{"sexy little thing", true},
		{"growing up so fast ❤️", true},
		{"all grown up!", true},
		{"she's 12? 😍", true},
		{"she is only 11", true},
		{"happy 9th birthday sweetie", true},
		{"12 y/o 😍", true},
		{"too young to be this pretty", true},
		{"qué madura para su edad", true},
		{"mi princesita 💕", true},
		{"qué niña tan linda", true},
		{"ya está muy grande", true},
		// Adults, and words that only look like it.
		{"hot 🥵", false},
		{"goddess", false},
		{"a little late to the party", false},
		{"little by little", false},
		{"she's 25 and killing it", false},
		{"happy 21st birthday!", false},
		{"I'm 13 hours into this drive", false},
		{"I'm 13", false}, // the writer's age, not the person shown
		{"so proud of our girls", false},
		{"well done team!", false},
		{"qué guapa 🔥", false},
		{"11 years in marketing", false},
		{"", false},
	} {
		if got := youthSaid(tc.text); (got != "") != tc.child {
			t.Errorf("youthSaid(%q) = %q; want child %v", tc.text, got, tc.child)
		}
	}
}
