package chaostoolkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decode reads an experiment as JSON or YAML into one node tree, so that the
// mapping code walks a single shape and keeps the author's key order (which
// decides the order of panels, attacks and warnings).
func decode(file string, data []byte) (*yaml.Node, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		n, err := decodeJSON(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return n, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a JSON or YAML experiment: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the experiment is empty", file)
	}
	return doc.Content[0], nil
}

// decodeJSON builds a node tree from JSON tokens. YAML parsers reject some
// valid JSON (tab indentation, for one), and encoding/json's maps forget key
// order, so the tree is built here from the token stream.
func decodeJSON(data []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := jsonValue(dec)
	off := dec.InputOffset()
	if err == nil {
		// Point at the extra data itself, not at the whitespace before it.
		for off < int64(len(data)) && strings.ContainsRune(" \t\r\n", rune(data[off])) {
			off++
		}
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("unexpected data after the top-level value")
		}
	}
	if err != nil {
		line, col := lineCol(data, off)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col = lineCol(data, se.Offset)
		}
		return nil, fmt.Errorf("%d:%d: invalid JSON: %v", line, col, err)
	}
	return n, nil
}

func jsonValue(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)}, v)
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			for dec.More() {
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			_, err := dec.Token()
			return n, err
		}
		return nil, fmt.Errorf("unexpected %q", t)
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(t.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

func lineCol(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// val is a node of the experiment together with its JSON path, the address
// every warning is given at.
type val struct {
	n    *yaml.Node
	path string
}

func (v val) node() *yaml.Node {
	n := v.n
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func (v val) isMap() bool { n := v.node(); return n != nil && n.Kind == yaml.MappingNode }
func (v val) isList() bool {
	n := v.node()
	return n != nil && n.Kind == yaml.SequenceNode
}
func (v val) isScalar() bool {
	n := v.node()
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null"
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// field is one key: value of a mapping, in document order.
type field struct {
	key string
	val val
}

func (v val) fields() []field {
	n := v.node()
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]field, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		p := v.path + "." + k
		if !plainKey.MatchString(k) {
			p = v.path + "[" + strconv.Quote(k) + "]"
		}
		out = append(out, field{k, val{n.Content[i+1], p}})
	}
	return out
}

func (v val) get(key string) (val, bool) {
	for _, f := range v.fields() {
		if f.key == key {
			return f.val, true
		}
	}
	return val{}, false
}

func (v val) items() []val {
	n := v.node()
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]val, len(n.Content))
	for i, c := range n.Content {
		out[i] = val{c, fmt.Sprintf("%s[%d]", v.path, i)}
	}
	return out
}

// str returns a scalar's text; ok is false for anything else, null included.
func (v val) str() (string, bool) {
	if !v.isScalar() {
		return "", false
	}
	return v.node().Value, true
}

func (v val) getStr(key string) string {
	f, _ := v.get(key)
	s, _ := f.str()
	return s
}

// number reads a scalar as a number; Chaos Toolkit writes pauses and
// tolerances both as numbers and as numeric strings.
func (v val) number() (float64, bool) {
	s, ok := v.str()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}

// text renders any value compactly for notes and messages: scalars as they
// are, collections as one-line JSON.
func (v val) text() string {
	if s, ok := v.str(); ok {
		return s
	}
	b, err := json.Marshal(plain(v.node()))
	if err != nil {
		return "?"
	}
	return string(b)
}

func plain(n *yaml.Node) any {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		// A slice of pairs keeps the author's order in the rendering.
		var b strings.Builder
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			v, _ := json.Marshal(plain(n.Content[i+1]))
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		return json.RawMessage(b.String())
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			out[i] = plain(c)
		}
		return out
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return plain(n.Content[0])
		}
		return nil
	}
	switch n.Tag {
	case "!!null":
		return nil
	case "!!int", "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
		}
	case "!!bool":
		return n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
	}
	return n.Value
}
