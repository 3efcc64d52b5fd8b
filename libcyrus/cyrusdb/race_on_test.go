//go:build race

package cyrusdb

// raceEnabled lets the tests that move values of the maximum size (64 and
// 128 MiB) skip under the race detector, which makes each such copy take
// tens of seconds and has nothing to find in them.
const raceEnabled = true
