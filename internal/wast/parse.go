package wast

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ferryvm/ferry/internal/wat"
)

// readWast reads a .wast script with Ferry's own text-format reader into
// the commands wast2json would have written, so that both inputs feed
// one runner. Modules are carried inline: binary ones as bytes, text
// ones (module quote) as their source, which the runner parses when it
// runs the command, because a parse error there is the expected outcome
// of an assert_malformed, not a broken script.
func readWast(path string) (*script, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := parseWast(src)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", path, err)
	}
	s.SourceFilename = path
	return s, nil
}

func parseWast(src []byte) (*script, error) {
	nodes, err := wat.ReadAll(src)
	if err != nil {
		return nil, err
	}
	s := &script{}
	if len(nodes) > 0 && isModuleField(nodes[0]) {
		// A script may be one module's fields alone.
		c := command{Type: "module", Line: nodes[0].Line}
		mod := &wat.Node{Kind: wat.List, Line: nodes[0].Line, Col: nodes[0].Col,
			Kids: append([]*wat.Node{{Kind: wat.Keyword, Text: "module", Line: nodes[0].Line, Col: nodes[0].Col}}, nodes...)}
		err := scriptModule(mod, &c)
		s.Commands = append(s.Commands, c)
		return s, err
	}
	for _, n := range nodes {
		c, err := parseCommand(n)
		if err != nil {
			return nil, err
		}
		s.Commands = append(s.Commands, c)
	}
	return s, nil
}

func isModuleField(n *wat.Node) bool {
	switch head(n) {
	case "type", "import", "func", "table", "memory", "global", "export", "start", "elem", "data":
		return true
	}
	return false
}

func errAt(n *wat.Node, format string, args ...any) error {
	return &wat.Error{Line: n.Line, Col: n.Col, Msg: fmt.Sprintf(format, args...)}
}

func head(n *wat.Node) string {
	if n.Kind == wat.List && len(n.Kids) > 0 && n.Kids[0].Kind == wat.Keyword {
		return n.Kids[0].Text
	}
	return ""
}

func parseCommand(n *wat.Node) (command, error) {
	c := command{Type: head(n), Line: n.Line}
	if n.Kind != wat.List || c.Type == "" {
		return c, errAt(n, "unexpected token: expected a script command such as (module ...) or (assert_return ...)")
	}
	args := n.Kids[1:]
	switch c.Type {
	case "module":
		err := scriptModule(n, &c)
		return c, err
	case "register":
		if len(args) < 1 || len(args) > 2 || args[0].Kind != wat.String || (len(args) == 2 && args[1].Kind != wat.ID) {
			return c, errAt(n, "malformed register: expected (register \"name\" $module?)")
		}
		c.As = args[0].Text
		if len(args) == 2 {
			c.Name = args[1].Text
		}
		return c, nil
	case "invoke", "get":
		a, err := parseAction(n)
		c.Type, c.Action = "action", a
		return c, err
	case "assert_return":
		if len(args) < 1 {
			return c, errAt(n, "malformed assert_return: expected an action")
		}
		a, err := parseAction(args[0])
		if err != nil {
			return c, err
		}
		c.Action = a
		for _, r := range args[1:] {
			if head(r) == "either" {
				for _, alt := range r.Kids[1:] {
					v, err := parseConst(alt, true)
					if err != nil {
						return c, err
					}
					c.Either = append(c.Either, v)
				}
				continue
			}
			v, err := parseConst(r, true)
			if err != nil {
				return c, err
			}
			c.Expected = append(c.Expected, v)
		}
		return c, nil
	case "assert_trap", "assert_exhaustion", "assert_malformed", "assert_invalid", "assert_unlinkable", "assert_uninstantiable":
		if len(args) != 2 || args[1].Kind != wat.String {
			return c, errAt(n, "malformed %s: expected a module or action and a message", c.Type)
		}
		c.Text = args[1].Text
		if h := head(args[0]); h == "invoke" || h == "get" {
			if c.Type != "assert_trap" && c.Type != "assert_exhaustion" {
				return c, errAt(args[0], "malformed %s: expected a module", c.Type)
			}
			a, err := parseAction(args[0])
			c.Action = a
			return c, err
		}
		if head(args[0]) != "module" {
			return c, errAt(args[0], "malformed %s: expected (module ...) or an action", c.Type)
		}
		if c.Type == "assert_trap" {
			// A module that traps while instantiating, as wast2json
			// writes it.
			c.Type = "assert_uninstantiable"
		}
		err := scriptModule(args[0], &c)
		return c, err
	}
	return c, errAt(n.Kids[0], "unknown script command %q", c.Type)
}

// scriptModule fills in c's module: (module $id? binary "..."*), (module
// $id? quote "..."*) or a module in the text format, encoded now (an
// error is kept in the command, which fails or passes on it).
func scriptModule(n *wat.Node, c *command) error {
	kids := n.Kids[1:]
	if len(kids) > 0 && kids[0].Kind == wat.ID {
		c.Name = kids[0].Text
		kids = kids[1:]
	}
	if len(kids) > 0 && kids[0].Kind == wat.Keyword && (kids[0].Text == "binary" || kids[0].Text == "quote") {
		var b []byte
		for _, s := range kids[1:] {
			if s.Kind != wat.String {
				return errAt(s, "malformed (module %s ...): expected strings", kids[0].Text)
			}
			b = append(b, s.Text...)
		}
		if kids[0].Text == "binary" {
			c.ModuleType, c.module = "binary", b
			if c.module == nil {
				c.module = []byte{}
			}
		} else {
			c.ModuleType, c.source = "text", b
			if c.source == nil {
				c.source = []byte{}
			}
		}
		return nil
	}
	c.ModuleType = "binary"
	c.module, c.moduleErr = wat.EncodeModule(n)
	if c.module == nil && c.moduleErr == nil {
		c.module = []byte{}
	}
	return nil
}

func parseAction(n *wat.Node) (*action, error) {
	a := &action{Type: head(n)}
	if a.Type != "invoke" && a.Type != "get" {
		return nil, errAt(n, "malformed action: expected (invoke ...) or (get ...)")
	}
	kids := n.Kids[1:]
	if len(kids) > 0 && kids[0].Kind == wat.ID {
		a.Module = kids[0].Text
		kids = kids[1:]
	}
	if len(kids) < 1 || kids[0].Kind != wat.String {
		return nil, errAt(n, "malformed %s: expected the export's name", a.Type)
	}
	a.Field = kids[0].Text
	if a.Type == "get" && len(kids) > 1 {
		return nil, errAt(kids[1], "malformed get: it takes no arguments")
	}
	for _, k := range kids[1:] {
		v, err := parseConst(k, false)
		if err != nil {
			return nil, err
		}
		a.Args = append(a.Args, v)
	}
	return a, nil
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// parseConst reads a constant ((i32.const 1), (ref.null func), ...) or,
// with patterns, a result pattern (nan:canonical, (ref.extern), ...) into
// the value form wast2json writes: bits as unsigned decimals.
func parseConst(n *wat.Node, patterns bool) (value, error) {
	h := head(n)
	kids := []*wat.Node{}
	if h != "" {
		kids = n.Kids[1:]
	}
	switch h {
	case "i32.const", "i64.const", "f32.const", "f64.const":
		if len(kids) != 1 {
			return value{}, errAt(n, "malformed %s: expected one literal", h)
		}
		t := h[:3]
		bits, err := scalar(t, kids[0], patterns)
		if err != nil {
			return value{}, err
		}
		return value{Type: t, Value: jsonString(bits)}, nil
	case "v128.const":
		if len(kids) < 1 {
			return value{}, errAt(n, "malformed v128.const: expected a shape and lanes")
		}
		shape := kids[0].Text
		laneType, _, _ := strings.Cut(shape, "x")
		lanes := kids[1:]
		// Checked by the module reader's rules: the shape and the count.
		if laneType != "f32" && laneType != "f64" || !patterns {
			if _, err := wat.V128Lanes(kids[0], lanes); err != nil {
				return value{}, err
			}
		}
		var out []string
		for _, l := range lanes {
			bits, err := scalar(laneType, l, patterns)
			if err != nil {
				return value{}, err
			}
			out = append(out, bits)
		}
		b, _ := json.Marshal(out)
		return value{Type: "v128", LaneType: laneType, Value: b}, nil
	case "ref.null":
		if len(kids) != 1 || (kids[0].Text != "func" && kids[0].Text != "extern") {
			return value{}, errAt(n, "malformed ref.null: expected func or extern")
		}
		return value{Type: kids[0].Text + "ref", Value: jsonString("null")}, nil
	case "ref.extern", "ref.func":
		t := "externref"
		if h == "ref.func" {
			t = "funcref"
		}
		if len(kids) == 0 {
			if !patterns {
				return value{}, errAt(n, "malformed %s: an argument needs a value", h)
			}
			return value{Type: t}, nil
		}
		if len(kids) != 1 {
			return value{}, errAt(n, "malformed %s: expected one number", h)
		}
		v, err := wat.ParseInt(kids[0].Text, 64)
		if err != nil || strings.HasPrefix(kids[0].Text, "-") {
			return value{}, errAt(kids[0], "malformed %s value %q", h, kids[0].Text)
		}
		return value{Type: t, Value: jsonString(strconv.FormatUint(v, 10))}, nil
	}
	return value{}, errAt(n, "unexpected token: expected a constant such as (i32.const 1)")
}

// scalar is one number (a scalar or a lane) of lane type t as decimal
// bits, or a NaN pattern.
func scalar(t string, n *wat.Node, patterns bool) (string, error) {
	if n.Kind == wat.List {
		return "", errAt(n, "unexpected token: expected a literal")
	}
	s := n.Text
	switch t {
	case "i8", "i16", "i32", "i64":
		bits, _ := strconv.Atoi(t[1:])
		v, err := wat.ParseInt(s, bits)
		if err != nil {
			return "", errAt(n, "%s literal %q: %v", t, s, err)
		}
		return strconv.FormatUint(v, 10), nil
	case "f32", "f64":
		if patterns && (s == "nan:canonical" || s == "nan:arithmetic") {
			return s, nil
		}
		var v uint64
		var err error
		if t == "f32" {
			var f uint32
			f, err = wat.ParseF32(s)
			v = uint64(f)
		} else {
			v, err = wat.ParseF64(s)
		}
		if err != nil {
			return "", errAt(n, "%s literal %q: %v", t, s, err)
		}
		return strconv.FormatUint(v, 10), nil
	}
	return "", errAt(n, "unknown lane type %q", t)
}
