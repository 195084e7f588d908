//go:build race

package interp

// alwaysArmed keeps code armed for good in race-detector builds, whose
// detector would report arming's deliberate racy rewrites (see arm.go).
const alwaysArmed = true
