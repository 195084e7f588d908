package snapshot

// Decoders of one whole section payload, for the tests: Read streams
// sections through the read* functions instead.

func decodeMeta(b []byte) (Meta, error) {
	return readMeta(&decoder{b: b, what: "meta"})
}

func decodeFrames(b []byte, lim Limits) ([]Frame, error) {
	return readFrames(&decoder{b: b, what: "frames"}, lim)
}

func decodeGlobals(b []byte, lim Limits) ([]Global, error) {
	return readGlobals(&decoder{b: b, what: "globals"}, lim)
}

func decodeTables(b []byte, lim Limits) ([]Table, error) {
	return readTables(&decoder{b: b, what: "tables"}, lim)
}

func decodeSegments(b []byte) (Segments, error) {
	return readSegments(&decoder{b: b, what: "segments"})
}

func decodeMemoryMap(b []byte, want int, runs *int) (Memory, error) {
	return readMemoryMap(&decoder{b: b, what: "memory"}, want, runs)
}
