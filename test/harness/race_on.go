//go:build race

package harness

// raceEnabled builds the binaries under test with -race when the tests
// themselves run with it, so data races in master and services surface too.
const raceEnabled = true
