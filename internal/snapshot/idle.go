package snapshot

// Idle checkpoints: the state of an instance between calls, with no call
// to continue (docs/snapshot-format.md, "Idle checkpoints").

// SectionIdle marks an idle checkpoint. It takes the place of the frames
// section, which every reader before it requires: an older Ferry refuses
// the file (a missing frames section) instead of reading it as a paused
// call with no frames, whose "resume" would return nothing.
//
// Type 11 is left to the profile section being added on another branch,
// so that the two can be merged without renumbering either.
const SectionIdle SectionType = 12
