package network

import "slices"

// graph is a weighted undirected graph: adj[i] lists i's neighbours once per
// direction (an edge i-j is in adj[i] and adj[j]); loop[i] is the weight of
// the edges folded into node i by aggregation, counted twice as in a
// symmetric adjacency matrix.
type graph struct {
	adj  [][]edge
	loop []float64
}

type edge struct {
	to int32
	w  float64
}

func newGraph(n int) *graph {
	return &graph{adj: make([][]edge, n), loop: make([]float64, n)}
}

// add adds weight w to the edge i-j (i != j).
func (g *graph) add(i, j int32, w float64) {
	g.adj[i] = append(g.adj[i], edge{j, w})
	g.adj[j] = append(g.adj[j], edge{i, w})
}

// compact merges repeated edges, so that a pair linked by a follow, a
// comment and a shared image is one edge of the summed weight.
func (g *graph) compact() {
	for i, es := range g.adj {
		slices.SortFunc(es, func(a, b edge) int { return int(a.to) - int(b.to) })
		out := es[:0]
		for _, e := range es {
			if n := len(out); n > 0 && out[n-1].to == e.to {
				out[n-1].w += e.w
				continue
			}
			out = append(out, e)
		}
		g.adj[i] = out
	}
}

func (g *graph) degrees() (deg []float64, total float64) {
	deg = make([]float64, len(g.adj))
	for i, es := range g.adj {
		deg[i] = g.loop[i]
		for _, e := range es {
			deg[i] += e.w
		}
		total += deg[i]
	}
	return deg, total
}

// louvain partitions g by the Louvain method (Blondel et al. 2008): move
// each node to the neighbouring community that most raises modularity until
// no move helps, fold each community into one node, and repeat on the
// folded graph until nothing moves. Nodes are visited in index order, so
// the answer is deterministic. It returns a community number per node,
// numbered from 0 in order of each community's lowest node.
func louvain(g *graph) []int32 {
	member := make([]int32, len(g.adj))
	for i := range member {
		member[i] = int32(i)
	}
	for level := 0; level < 32; level++ {
		comm, moved := localMoves(g)
		if !moved {
			break
		}
		for i := range member {
			member[i] = comm[member[i]]
		}
		g = fold(g, comm)
	}
	return renumber(member)
}

// localMoves is Louvain's first phase; comm is numbered 0..k-1.
func localMoves(g *graph) (comm []int32, moved bool) {
	n := len(g.adj)
	deg, m2 := g.degrees()
	comm = make([]int32, n)
	tot := make([]float64, n) // sum of degrees in each community
	for i := range comm {
		comm[i] = int32(i)
		tot[i] = deg[i]
	}
	if m2 == 0 {
		return comm, false
	}
	links := make([]float64, n) // weight from the node to each community
	var touched []int32
	for pass := 0; pass < 100; pass++ {
		changed := false
		for i := range n {
			own := comm[i]
			touched = touched[:0]
			for _, e := range g.adj[i] {
				c := comm[e.to]
				if links[c] == 0 {
					touched = append(touched, c)
				}
				links[c] += e.w
			}
			tot[own] -= deg[i]
			// Gain of joining c, up to a constant factor: links to c
			// minus what a random graph of these degrees would give.
			best, bestGain := own, links[own]-tot[own]*deg[i]/m2
			for _, c := range touched {
				if gain := links[c] - tot[c]*deg[i]/m2; gain > bestGain+1e-12 {
					best, bestGain = c, gain
				}
			}
			tot[best] += deg[i]
			for _, c := range touched {
				links[c] = 0
			}
			if best != own {
				comm[i] = best
				changed, moved = true, true
			}
		}
		if !changed {
			break
		}
	}
	return renumber(comm), moved
}

// fold makes one node of each community, with the summed weights.
func fold(g *graph, comm []int32) *graph {
	k := 0
	for _, c := range comm {
		k = max(k, int(c)+1)
	}
	h := newGraph(k)
	sums := make([]map[int32]float64, k)
	for i, es := range g.adj {
		ci := comm[i]
		h.loop[ci] += g.loop[i]
		for _, e := range es {
			cj := comm[e.to]
			if ci == cj {
				h.loop[ci] += e.w // once from each end: the loop's double count
				continue
			}
			if sums[ci] == nil {
				sums[ci] = make(map[int32]float64)
			}
			sums[ci][cj] += e.w
		}
	}
	for ci, m := range sums {
		for cj, w := range m {
			h.adj[ci] = append(h.adj[ci], edge{cj, w})
		}
		slices.SortFunc(h.adj[ci], func(a, b edge) int { return int(a.to) - int(b.to) })
	}
	return h
}

// renumber numbers communities 0..k-1 in order of first appearance.
func renumber(comm []int32) []int32 {
	next := map[int32]int32{}
	out := make([]int32, len(comm))
	for i, c := range comm {
		v, ok := next[c]
		if !ok {
			v = int32(len(next))
			next[c] = v
		}
		out[i] = v
	}
	return out
}

// modularity is Newman's Q of a partition of g: the share of edge weight
// inside communities minus the share expected at random for those degrees.
func modularity(g *graph, comm []int32) float64 {
	deg, m2 := g.degrees()
	if m2 == 0 {
		return 0
	}
	in := map[int32]float64{}
	tot := map[int32]float64{}
	for i, es := range g.adj {
		in[comm[i]] += g.loop[i]
		tot[comm[i]] += deg[i]
		for _, e := range es {
			if comm[e.to] == comm[i] {
				in[comm[i]] += e.w
			}
		}
	}
	q := 0.0
	for c, t := range tot {
		q += in[c]/m2 - (t/m2)*(t/m2)
	}
	return q
}
