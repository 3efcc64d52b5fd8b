//go:build !race

package cyrusdb

const raceEnabled = false
