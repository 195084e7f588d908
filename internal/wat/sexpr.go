// Package wat reads the WebAssembly text format (WebAssembly 2.0 with the
// proposals Ferry runs: multi-value, reference types, bulk memory, SIMD and
// relaxed SIMD, sign extension, saturating float-to-int) and writes the
// binary format, which the decoder and validator then check like any other
// module. The text is read in two steps: tokens into S-expressions (this
// file), then S-expressions into a module (module.go, instr.go). Scripts
// (.wast) reuse the first step and the module encoder, see internal/wast.
//
// Every error carries the line and column of the text it is about; no
// input makes the reader panic (FuzzParse).
package wat

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind is what a Node is.
type Kind uint8

const (
	List     Kind = iota // ( ... )
	Keyword              // a token that starts with a lower-case letter: i32.add, offset=4
	ID                   // $name
	Number               // a token that starts with a digit or a sign: 42, -0x1p3, inf
	String               // "..." with escapes decoded
	Reserved             // any other token of idchars; an error wherever it is used
)

// Node is an S-expression: a parenthesised list or a single token.
type Node struct {
	Kind      Kind
	Text      string // the token (for String: its decoded bytes)
	Kids      []*Node
	Line, Col int
}

// Error is a text-format error at a line and column.
type Error struct {
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

func errAt(n *Node, format string, args ...any) *Error {
	return &Error{Line: n.Line, Col: n.Col, Msg: fmt.Sprintf(format, args...)}
}

// MaxDepth bounds list nesting: the encoder recurses on folded
// instructions, and a file of a million "(" must fail, not exhaust memory.
const MaxDepth = 10000

// ReadAll reads the S-expressions of src.
func ReadAll(src []byte) ([]*Node, error) {
	lx := lexer{src: src, line: 1, col: 1}
	var stack []*Node
	var top []*Node
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		if t == nil {
			if len(stack) > 0 {
				open := stack[len(stack)-1]
				return nil, &Error{Line: lx.line, Col: lx.col, Msg: fmt.Sprintf("unexpected end of text: the list opened at %d:%d is not closed", open.Line, open.Col)}
			}
			return top, nil
		}
		switch t.Text {
		case "(":
			if t.Kind == List {
				if len(stack) >= MaxDepth {
					return nil, errAt(t, "lists nested more than %d deep", MaxDepth)
				}
				stack = append(stack, t)
				continue
			}
		case ")":
			if t.Kind == List {
				if len(stack) == 0 {
					return nil, errAt(t, "unexpected token \")\": no list is open")
				}
				n := stack[len(stack)-1]
				n.Text = ""
				stack = stack[:len(stack)-1]
				t = n
			}
		}
		if len(stack) == 0 {
			top = append(top, t)
		} else {
			p := stack[len(stack)-1]
			p.Kids = append(p.Kids, t)
		}
	}
}

type lexer struct {
	src       []byte
	pos       int
	line, col int
}

func (lx *lexer) advance(n int) {
	for i := 0; i < n && lx.pos < len(lx.src); i++ {
		if lx.src[lx.pos] == '\n' {
			lx.line, lx.col = lx.line+1, 1
		} else {
			lx.col++
		}
		lx.pos++
	}
}

func (lx *lexer) errHere(format string, args ...any) *Error {
	return &Error{Line: lx.line, Col: lx.col, Msg: fmt.Sprintf(format, args...)}
}

// skipSpace skips white space and comments.
func (lx *lexer) skipSpace() error {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			lx.advance(1)
		case c == ';' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == ';':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.advance(1)
			}
		case c == '(' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == ';':
			line, col := lx.line, lx.col
			lx.advance(2)
			for depth := 1; depth > 0; {
				if lx.pos >= len(lx.src) {
					return &Error{Line: line, Col: col, Msg: "unexpected end of text: block comment not closed"}
				}
				switch {
				case lx.src[lx.pos] == '(' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == ';':
					depth++
					lx.advance(2)
				case lx.src[lx.pos] == ';' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == ')':
					depth--
					lx.advance(2)
				default:
					lx.advance(1)
				}
			}
		default:
			return nil
		}
	}
	return nil
}

func isIDChar(c byte) bool {
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return true
	}
	return strings.IndexByte("!#$%&'*+-./:<=>?@\\^_`|~", c) >= 0
}

// next returns the next token, nil at the end. Parentheses are List nodes
// whose Text is "(" or ")".
func (lx *lexer) next() (*Node, error) {
	if err := lx.skipSpace(); err != nil {
		return nil, err
	}
	if lx.pos >= len(lx.src) {
		return nil, nil
	}
	n := &Node{Line: lx.line, Col: lx.col}
	c := lx.src[lx.pos]
	switch {
	case c == '(' || c == ')':
		n.Kind, n.Text = List, string(c)
		lx.advance(1)
		return n, nil
	case c == '"':
		s, err := lx.str()
		if err != nil {
			return nil, err
		}
		n.Kind, n.Text = String, s
	case isIDChar(c):
		start := lx.pos
		for lx.pos < len(lx.src) && isIDChar(lx.src[lx.pos]) {
			lx.advance(1)
		}
		n.Text = string(lx.src[start:lx.pos])
		switch {
		case c == '$':
			n.Kind = ID
			if len(n.Text) == 1 {
				return nil, errAt(n, "unexpected token \"$\": an identifier needs a name")
			}
		case c >= 'a' && c <= 'z':
			n.Kind = Keyword
		case c >= '0' && c <= '9', c == '+', c == '-':
			n.Kind = Number
		default:
			n.Kind = Reserved
		}
	default:
		r, _ := utf8.DecodeRune(lx.src[lx.pos:])
		return nil, lx.errHere("unexpected character %q", r)
	}
	// Tokens are separated by space, comments or parentheses: "0x1"$x or
	// i32.const"1" are one malformed token, not two.
	if lx.pos < len(lx.src) {
		d := lx.src[lx.pos]
		if d == '"' || isIDChar(d) {
			return nil, errAt(n, "unexpected token: %q runs into the next one (tokens need space between them)", n.Text)
		}
	}
	return n, nil
}

// str reads a string literal, decoding its escapes.
func (lx *lexer) str() (string, error) {
	line, col := lx.line, lx.col
	lx.advance(1)
	var b strings.Builder
	for {
		if lx.pos >= len(lx.src) {
			return "", &Error{Line: line, Col: col, Msg: "unexpected end of text: string not closed"}
		}
		c := lx.src[lx.pos]
		switch {
		case c == '"':
			lx.advance(1)
			return b.String(), nil
		case c == '\n' || c < 0x20 || c == 0x7f:
			return "", lx.errHere("control character 0x%02x in a string (write it as \\%02x)", c, c)
		case c != '\\':
			b.WriteByte(c)
			lx.advance(1)
			continue
		}
		if lx.pos+1 >= len(lx.src) {
			return "", &Error{Line: line, Col: col, Msg: "unexpected end of text: string not closed"}
		}
		e := lx.src[lx.pos+1]
		switch e {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case '"', '\'', '\\':
			b.WriteByte(e)
		case 'u':
			// \u{hex}: a Unicode scalar value, written as UTF-8.
			end := lx.pos + 2
			if end >= len(lx.src) || lx.src[end] != '{' {
				return "", lx.errHere("malformed escape: \\u must be followed by {hex}")
			}
			close := end + 1
			for close < len(lx.src) && lx.src[close] != '}' && close-end < 12 {
				close++
			}
			if close >= len(lx.src) || lx.src[close] != '}' {
				return "", lx.errHere("malformed escape: \\u{ not closed")
			}
			v, ok := parseHexDigits(string(lx.src[end+1 : close]))
			if !ok || v >= 0x110000 || (v >= 0xD800 && v < 0xE000) {
				return "", lx.errHere("malformed escape %q: not a Unicode scalar value", string(lx.src[lx.pos:close+1]))
			}
			b.WriteRune(rune(v))
			lx.advance(close + 1 - lx.pos)
			continue
		default:
			if lx.pos+2 < len(lx.src) && isHex(e) && isHex(lx.src[lx.pos+2]) {
				b.WriteByte(hexVal(e)<<4 | hexVal(lx.src[lx.pos+2]))
				lx.advance(3)
				continue
			}
			return "", lx.errHere("malformed escape \\%c", e)
		}
		lx.advance(2)
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// parseHexDigits parses hex digits with optional single underscores
// between them, as the text format's hexnum.
func parseHexDigits(s string) (uint64, bool) {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			if s[i-1] == '_' {
				return 0, false
			}
			continue
		}
		if !isHex(c) || v>>60 != 0 {
			return 0, false
		}
		v = v<<4 | uint64(hexVal(c))
	}
	return v, true
}
