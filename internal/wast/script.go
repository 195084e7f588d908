// Package wast runs WebAssembly scripts (the spec suite's .wast files). A
// script is read either directly, with Ferry's own text-format reader
// (parse.go, internal/wat), or in the JSON form that wabt's wast2json
// produces (one JSON file listing the commands, next to the .wasm and
// .wat modules it refers to); both become the same commands for one
// runner.
//
// Modules in the text format (module quote, used by assert_malformed for
// source-level errors) are parsed by internal/wat when their command
// runs: a text error counts as a malformed module.
package wast

import (
	"encoding/json"
	"fmt"
	"os"
)

// script is the top level of a wast2json output file.
type script struct {
	SourceFilename string    `json:"source_filename"`
	Commands       []command `json:"commands"`
}

// command is one script command. Which fields are set depends on Type.
type command struct {
	Type       string  `json:"type"`
	Line       int     `json:"line"`
	Name       string  `json:"name"`        // module: its $name; register: the module registered
	As         string  `json:"as"`          // register: the import name it is registered under
	Filename   string  `json:"filename"`    // module and module assertions: the module file
	Text       string  `json:"text"`        // assertions: the expected failure message
	ModuleType string  `json:"module_type"` // module assertions: "binary" or "text"
	Action     *action `json:"action"`      // action and action assertions
	Expected   []value `json:"expected"`    // assert_return: the results
	Either     []value `json:"either"`      // assert_return (either ...): the one result may be any of these

	// A .wast script read directly carries its modules inline: module
	// (binary, or encoded from text) or source (module quote), and
	// moduleErr for a text module that did not encode.
	module    []byte
	source    []byte
	moduleErr error
}

// action is an invoke of an exported function or a get of an exported global.
type action struct {
	Type   string  `json:"type"`   // "invoke" or "get"
	Module string  `json:"module"` // $name of the module, "" for the current one
	Field  string  `json:"field"`  // export name
	Args   []value `json:"args"`
}

// value is a typed constant or result pattern as wast2json writes it: scalars
// are decimal strings of the bits ("nan:canonical" and "nan:arithmetic" for
// NaN patterns), references "null" or a number, and v128 a list of lanes of
// LaneType. On a reference result, a missing Value means "any non-null", and
// so does a funcref's number: it is a function index, not an engine handle.
type value struct {
	Type     string          `json:"type"`
	LaneType string          `json:"lane_type"`
	Value    json.RawMessage `json:"value"`
}

func readScript(path string) (*script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s script
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: not a wast2json script: %w", path, err)
	}
	return &s, nil
}
