package cli

// runBench points to safeguard-bench, which holds the benchmark drivers so
// that the product binary does not (cmd/safeguard-bench).
func runBench(e *env, args []string) int {
	return groupUsage(e, args, `usage: safeguard-bench hash|index|scan [flags]

The benchmarks are a command of their own, kept out of the service's binary:
  go run ./cmd/safeguard-bench -h
(or go install ./cmd/safeguard-bench). docs/benchmarks.md lists them.`)
}
