//go:build unix && !linux

package store

// Other Unix systems do not overcommit anonymous private mappings by
// default, or do not name the flag the same way; plain mappings are
// still only committed when touched.
const mapNoReserve = 0
