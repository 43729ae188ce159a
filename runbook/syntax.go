package runbook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The YAML layer: the text must be UTF-8 without control characters, parse
// as one document, and a syntax error must say where, to the column. The
// parser names at best a line, sometimes one off and sometimes none.

// decodeDocument parses data as exactly one YAML document and returns its
// top node; nil with no error means the file holds no document.
func decodeDocument(file string, data []byte) (*yaml.Node, error) {
	if e, ok := badText(file, data); ok {
		return nil, ErrorList{e}
	}
	root, next, err := parse(data)
	switch {
	case err != nil && root != nil:
		// The second document does not even parse; what matters is that
		// it is there, so it is named where its marker is.
		if line, ok := markerAfter(data, lastLine(root)); ok {
			return nil, ErrorList{secondDocument(file, line, 1)}
		}
		return nil, ErrorList{syntaxError(file, data, err)}
	case err != nil:
		if e, ok := tabIndent(file, data); ok {
			return nil, ErrorList{e}
		}
		return nil, ErrorList{syntaxError(file, data, err)}
	case next != nil:
		return nil, ErrorList{secondDocument(file, next.Line, next.Column)}
	case root == nil || len(root.Content) == 0:
		return nil, nil
	}
	return root.Content[0], nil
}

// parse decodes the first document and looks past its end: it returns the
// first document, the second if there is one, and the first parse error.
func parse(data []byte) (root, next *yaml.Node, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first yaml.Node
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var second yaml.Node
	if err := dec.Decode(&second); err != nil {
		if errors.Is(err, io.EOF) {
			return &first, nil, nil
		}
		return &first, nil, err
	}
	return &first, &second, nil
}

func secondDocument(file string, line, col int) Error {
	return Error{File: file, Line: line, Col: col,
		Msg: "a second YAML document starts here; a runbook file holds exactly one, so that nothing in it is silently ignored"}
}

// lastLine is the last line any node of the tree starts on.
func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}

var docMarker = regexp.MustCompile(`^(---|\.\.\.)([ \t\r]|$)`)

// markerAfter finds the first document marker (--- or ...) on a line after
// line. A marker can only be at the start of a line: inside a document
// such a line would have to be indented.
func markerAfter(data []byte, line int) (int, bool) {
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 > line && docMarker.MatchString(l) {
			return i + 1, true
		}
	}
	return 0, false
}

// badText finds the first byte sequence that is not UTF-8, or a character
// YAML does not allow in a document, with its place. Files that start with
// a UTF-16 byte order mark are left to the parser, which reads them.
func badText(file string, data []byte) (Error, bool) {
	if bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		return Error{}, false
	}
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		var msg string
		switch {
		case r == utf8.RuneError && size == 1:
			msg = fmt.Sprintf("byte 0x%02x is not UTF-8; save the runbook as UTF-8 text", data[off])
		case r == 0:
			msg = "a NUL byte; a runbook is text, and YAML allows no control characters"
		case !yamlPrintable(r):
			msg = fmt.Sprintf("control character %U; YAML allows none but tab and line breaks", r)
		}
		if msg != "" {
			line, col := lineCol(data, off)
			return Error{File: file, Line: line, Col: col, Msg: "YAML syntax: " + msg}, true
		}
		off += size
	}
	return Error{}, false
}

// yamlPrintable is the set of characters the YAML parser accepts.
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r == 0x85:
	case r >= 0x20 && r <= 0x7e:
	case r >= 0xa0 && r <= 0xd7ff:
	case r >= 0xe000 && r <= 0xfffd:
	case r >= 0x10000 && r <= 0x10ffff:
	default:
		return false
	}
	return true
}

// tabIndent finds a tab used for indentation, the commonest cause of a YAML
// syntax error, which the parser itself reports vaguely and a line late.
func tabIndent(file string, data []byte) (Error, bool) {
	for i, line := range strings.Split(string(data), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if j := strings.IndexByte(indent, '\t'); j >= 0 && strings.TrimSpace(line) != "" {
			return Error{File: file, Line: i + 1, Col: j + 1, Msg: "YAML syntax: a tab is used for indentation; YAML allows only spaces"}, true
		}
	}
	return Error{}, false
}

var (
	yamlPrefix = regexp.MustCompile(`^yaml: (line \d+: )?`)
	yamlLine   = regexp.MustCompile(`^yaml: line (\d+): `)
)

// problem is what the parser says is wrong with data, without its place.
func problem(err error) string {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	return yamlPrefix.ReplaceAllString(msg, "")
}

// maxLocate bounds the input the locator re-parses: it parses prefixes
// about twice the logarithm of the length times, on the error path only.
const maxLocate = 4 << 20

// syntaxError places a parse error. The parser reads a document front to
// back, so the shortest prefix of the input that fails with the same
// problem ends just past the character where it gave up. That prefix is
// found by bisection over whole lines, then over the characters of the
// line. An unclosed [ or { is reported where it opens.
func syntaxError(file string, data []byte, err error) Error {
	want := problem(err)
	e := Error{File: file, Msg: "YAML syntax: " + want}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1]) // the parser's guess, kept if nothing better is found
	}
	if len(data) > maxLocate {
		return e
	}
	fails := func(n int) bool {
		_, _, err := parse(data[:n])
		return err != nil && problem(err) == want
	}
	if !fails(len(data)) {
		return e
	}
	ends := lineEnds(data)
	line := firstFailing(ends, fails)
	start := 0
	if line > 0 {
		start = ends[line-1]
	}
	// Offsets just past each of the line's characters.
	var cuts []int
	for off := start; off < ends[line]; {
		_, size := utf8.DecodeRune(data[off:])
		off += size
		cuts = append(cuts, off)
	}
	end := cuts[firstFailing(cuts, fails)]
	_, size := utf8.DecodeLastRune(data[:end])
	at := end - size
	if open := unclosedOpener(want); open != 0 {
		if i := bytes.LastIndexByte(data[:at+1], open); i >= 0 {
			at = i
		}
	}
	e.Line, e.Col = lineCol(data, at)
	return e
}

// firstFailing bisects for the first cut whose prefix fails; the last cut
// is known to fail.
func firstFailing(cuts []int, fails func(int) bool) int {
	lo, hi := -1, len(cuts)-1
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; fails(cuts[mid]) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// unclosedOpener is the bracket a problem says was never closed.
func unclosedOpener(problem string) byte {
	switch {
	case strings.HasSuffix(problem, "',' or ']'"):
		return '['
	case strings.HasSuffix(problem, "',' or '}'"):
		return '{'
	}
	return 0
}

// lineEnds lists the offset just past each line, the last line included
// whether or not it ends in a break.
func lineEnds(data []byte) []int {
	var ends []int
	for off := 0; off < len(data); {
		n := breakAt(data, off)
		if n > 0 {
			off += n
			ends = append(ends, off)
			continue
		}
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	return ends
}

// breakAt is the length of the line break at off, 0 if there is none. YAML
// breaks lines at CR LF, CR, LF, NEL, and the Unicode line and paragraph
// separators; positions count lines as the parser does.
func breakAt(data []byte, off int) int {
	switch rest := data[off:]; {
	case bytes.HasPrefix(rest, []byte("\r\n")):
		return 2
	case rest[0] == '\r', rest[0] == '\n':
		return 1
	case bytes.HasPrefix(rest, []byte("\u0085")), bytes.HasPrefix(rest, []byte("\u2028")), bytes.HasPrefix(rest, []byte("\u2029")):
		_, size := utf8.DecodeRune(rest)
		return size
	}
	return 0
}

// lineCol is the 1-based line and column, in characters, of offset off.
func lineCol(data []byte, off int) (int, int) {
	line, col := 1, 1
	for i := 0; i < off && i < len(data); {
		if n := breakAt(data, i); n > 0 {
			i += n
			line, col = line+1, 1
			continue
		}
		_, size := utf8.DecodeRune(data[i:])
		i += size
		col++
	}
	return line, col
}
