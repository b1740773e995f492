package hma

// Routes lists the handler's routes with the query parameters each takes,
// for the tests of package hma_test.
func Routes() map[string][]string {
	out := map[string][]string{}
	for _, rt := range (&handler{}).routes() {
		names := []string{}
		for _, p := range rt.query {
			names = append(names, p.Name)
		}
		out[rt.pattern] = names
	}
	return out
}
