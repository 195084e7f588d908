//go:build !race

package interp

// alwaysArmed keeps code armed for good (see arm.go); only race-detector
// builds set it.
const alwaysArmed = false
