//go:build race

package node

// raceEnabled: the race detector keeps shadow memory it never returns,
// so RSS comparisons mean nothing under it.
const raceEnabled = true
