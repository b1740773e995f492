#!/bin/sh
# Instruction counts (valgrind's callgrind), which other work on the machine does not change.
#
#   bench/instructions.sh pdq TESTBIN BENCH   run in internal/pdq: instructions per hash of
#       BenchmarkHashImage/BENCH, (total at 40 iterations - total at 10) / 30, so set-up cancels out
#       (TESTBIN from `go test -c ./internal/pdq`)
#   bench/instructions.sh hash BIN IMAGE N    instructions per image of `BIN hash --format json
#       --mode turbo` (decode, PDQ, MD5, SHA-256): (IMAGE given N times - given once) / (N-1)
#   bench/instructions.sh bench TESTBIN BENCH  run in the test's package: instructions per op of
#       any benchmark, the full name BENCH (anchored), computed as for pdq
#
# GODEBUG=asyncpreemptoff=1 because callgrind asserts on Go's preemption signals.
set -e
count() { GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
case $1 in
pdq)
	a=$(count "$2" -test.run X -test.bench "HashImage/$3\$" -test.benchtime 10x)
	b=$(count "$2" -test.run X -test.bench "HashImage/$3\$" -test.benchtime 40x)
	echo "$3 $(( (b - a) / 30 ))"
	;;
bench)
	a=$(count "$2" -test.run X -test.bench "^$3\$" -test.benchtime 10x)
	b=$(count "$2" -test.run X -test.bench "^$3\$" -test.benchtime 40x)
	echo "$3 $(( (b - a) / 30 ))"
	;;
hash)
	bin=$2 img=$3 n=$4
	a=$(count "$bin" hash --format json --mode turbo "$img")
	set --
	i=0
	while [ $i -lt "$n" ]; do set -- "$@" "$img"; i=$((i + 1)); done
	b=$(count "$bin" hash --format json --mode turbo "$@")
	echo "$img $(( (b - a) / (n - 1) ))"
	;;
*)
	echo "usage: bench/instructions.sh pdq TESTBIN BENCH | bench TESTBIN BENCH | hash BIN IMAGE N" >&2
	exit 2
	;;
esac
