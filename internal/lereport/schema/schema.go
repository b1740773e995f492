// Package schema validates XML documents against a W3C XML Schema written in
// a small subset of XSD, the subset cybertipline-subset.xsd (embedded here)
// uses: global and local xs:element with minOccurs and maxOccurs; named and
// anonymous xs:complexType holding an xs:sequence (of elements and
// xs:choice groups), an xs:choice, xs:simpleContent with attributes, or
// nothing; xs:simpleType restrictions with xs:enumeration, xs:pattern,
// xs:minLength and xs:maxLength; and the built-in types string, token,
// boolean, dateTime, date, integer (and its non-negative, positive, int and
// long forms) and anyURI.
//
// Go's standard library has no XSD validator, and a law-enforcement report
// must not be sent unless it conforms: so the .xsd file in the repository is
// the single source of truth, parsed here, rather than rules copied by hand
// into Go that could drift from it. A schema using anything outside the
// subset is refused when it loads, so nothing in it goes silently unchecked.
package schema

import (
	_ "embed"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

//go:embed cybertipline-subset.xsd
var cybertipXSD []byte

// CyberTipXSD returns the bytes of cybertipline-subset.xsd, for tools (and
// the xmllint cross-check) that want the file itself.
func CyberTipXSD() []byte { return cybertipXSD }

// CyberTip is the parsed cybertipline-subset.xsd. The embedded file is part
// of the build, so failing to parse it is a programming error.
var CyberTip = func() *Schema {
	s, err := Parse(cybertipXSD)
	if err != nil {
		panic("schema: cybertipline-subset.xsd: " + err.Error())
	}
	return s
}()

const xsdNS = "http://www.w3.org/2001/XMLSchema"

// unbounded is maxOccurs="unbounded".
const unbounded = -1

// Schema is a parsed schema: its global elements, each of which may be the
// root of a document.
type Schema struct {
	roots map[string]*element
}

type element struct {
	name     string
	min, max int // max == unbounded for no limit
	typ      *typeDef
	typeName string // to resolve after the whole schema is read; "" if inline
}

// particle is one step of a content model: an element, or a choice of
// elements, that occurs between min and max times.
type particle struct {
	min, max int
	choice   []*element // one element when not a choice
}

// typeDef is an element's type. A complex type has a content model
// (particles) and may have attributes; text is set for simple content and
// for simple types, which constrain text only; neither set is an empty type.
type typeDef struct {
	particles []particle
	attrs     []*attribute
	text      *simpleType // nil: no text allowed (element-only or empty)
}

type attribute struct {
	name     string
	required bool
	typ      *simpleType
	typeName string
}

// simpleType is a built-in type narrowed by facets.
type simpleType struct {
	name     string
	builtin  string // the built-in at the root of the restriction chain
	base     *simpleType
	baseName string
	enum     []string
	patterns []*regexp.Regexp
	minLen   int
	maxLen   int // -1: none
}

// node is a generic XML element as read from a document or the schema.
type node struct {
	space, name string
	attrs       []xml.Attr
	children    []*node
	text        strings.Builder
}

func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 64

// readTree reads a whole XML document into nodes. Comments, processing
// instructions and directives are skipped; the document must have exactly
// one root element.
func readTree(r io.Reader) (*node, error) {
	d := xml.NewDecoder(r)
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("elements nested deeper than %d", maxDepth)
			}
			n := &node{space: t.Name.Space, name: t.Name.Local, attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if strings.TrimSpace(string(t)) != "" {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// Parse reads a schema written in the subset the package doc describes.
func Parse(xsd []byte) (*Schema, error) {
	root, err := readTree(strings.NewReader(string(xsd)))
	if err != nil {
		return nil, err
	}
	if root.space != xsdNS || root.name != "schema" {
		return nil, fmt.Errorf("root element is %s, not xs:schema", root.name)
	}
	p := parser{
		complex: map[string]*typeDef{},
		simple:  map[string]*simpleType{},
		prefix:  map[string]bool{},
	}
	for _, a := range root.attrs {
		if a.Name.Space == "xmlns" && a.Value == xsdNS {
			p.prefix[a.Name.Local] = true
		}
	}
	if _, ok := root.attr("targetNamespace"); ok {
		return nil, errors.New("xs:schema: targetNamespace is not supported (documents have no namespace)")
	}
	s := &Schema{roots: map[string]*element{}}
	// Named types first, so elements can refer to types declared after them.
	for _, c := range root.children {
		if err := p.xsdOnly(c); err != nil {
			return nil, err
		}
		name, _ := c.attr("name")
		switch c.name {
		case "complexType", "simpleType":
			if name == "" {
				return nil, fmt.Errorf("a global xs:%s has no name", c.name)
			}
			if p.complex[name] != nil || p.simple[name] != nil {
				return nil, fmt.Errorf("type %q is declared twice", name)
			}
			if c.name == "complexType" {
				t, err := p.complexType(c)
				if err != nil {
					return nil, fmt.Errorf("type %s: %w", name, err)
				}
				p.complex[name] = t
			} else {
				t, err := p.simpleType(c)
				if err != nil {
					return nil, fmt.Errorf("type %s: %w", name, err)
				}
				t.name = name
				p.simple[name] = t
			}
		case "element", "annotation":
		default:
			return nil, fmt.Errorf("unsupported XSD construct xs:%s at the top level", c.name)
		}
	}
	for _, c := range root.children {
		if c.name != "element" {
			continue
		}
		e, err := p.element(c, true)
		if err != nil {
			return nil, err
		}
		if s.roots[e.name] != nil {
			return nil, fmt.Errorf("global element %q is declared twice", e.name)
		}
		s.roots[e.name] = e
	}
	if len(s.roots) == 0 {
		return nil, errors.New("the schema declares no global element")
	}
	if err := p.resolve(); err != nil {
		return nil, err
	}
	return s, nil
}

type parser struct {
	complex  map[string]*typeDef
	simple   map[string]*simpleType
	prefix   map[string]bool // namespace prefixes bound to XSD
	elements []*element      // every element, to resolve type names
	attrs    []*attribute
	simples  []*simpleType
}

func (p *parser) xsdOnly(n *node) error {
	if n.space != xsdNS {
		return fmt.Errorf("element <%s> is not in the XSD namespace", n.name)
	}
	return nil
}

// builtin returns the built-in type a QName such as "xs:string" names, or ""
// if it names a type of this schema.
func (p *parser) builtin(qname string) (string, error) {
	prefix, local, ok := strings.Cut(qname, ":")
	if !ok {
		return "", nil
	}
	if !p.prefix[prefix] {
		return "", fmt.Errorf("type %q: prefix %q is not bound to the XSD namespace", qname, prefix)
	}
	if _, ok := builtins[local]; !ok {
		return "", fmt.Errorf("built-in type xs:%s is not supported", local)
	}
	return local, nil
}

func occurs(n *node) (min, max int, err error) {
	min, max = 1, 1
	if v, ok := n.attr("minOccurs"); ok {
		if min, err = strconv.Atoi(v); err != nil || min < 0 {
			return 0, 0, fmt.Errorf("minOccurs %q is not a non-negative integer", v)
		}
	}
	if v, ok := n.attr("maxOccurs"); ok {
		if v == "unbounded" {
			max = unbounded
		} else if max, err = strconv.Atoi(v); err != nil || max < 1 {
			return 0, 0, fmt.Errorf("maxOccurs %q is not a positive integer or unbounded", v)
		}
	}
	if max != unbounded && min > max {
		return 0, 0, fmt.Errorf("minOccurs %d exceeds maxOccurs %d", min, max)
	}
	return min, max, nil
}

func (p *parser) element(n *node, global bool) (*element, error) {
	name, _ := n.attr("name")
	if name == "" {
		return nil, errors.New("an xs:element has no name (ref is not supported)")
	}
	e := &element{name: name, min: 1, max: 1}
	if !global {
		var err error
		if e.min, e.max, err = occurs(n); err != nil {
			return nil, fmt.Errorf("element %s: %w", name, err)
		}
	}
	typeName, hasType := n.attr("type")
	var inline *node
	for _, c := range n.children {
		if err := p.xsdOnly(c); err != nil {
			return nil, err
		}
		switch c.name {
		case "annotation":
		case "complexType", "simpleType":
			if inline != nil || hasType {
				return nil, fmt.Errorf("element %s has more than one type", name)
			}
			inline = c
		default:
			return nil, fmt.Errorf("element %s: unsupported XSD construct xs:%s", name, c.name)
		}
	}
	switch {
	case inline != nil && inline.name == "complexType":
		t, err := p.complexType(inline)
		if err != nil {
			return nil, fmt.Errorf("element %s: %w", name, err)
		}
		e.typ = t
	case inline != nil:
		st, err := p.simpleType(inline)
		if err != nil {
			return nil, fmt.Errorf("element %s: %w", name, err)
		}
		e.typ = &typeDef{text: st}
	case hasType:
		e.typeName = typeName
		p.elements = append(p.elements, e)
	default:
		return nil, fmt.Errorf("element %s has no type (anyType is not supported)", name)
	}
	return e, nil
}

func (p *parser) complexType(n *node) (*typeDef, error) {
	t := &typeDef{}
	seenContent := false
	for _, c := range n.children {
		if err := p.xsdOnly(c); err != nil {
			return nil, err
		}
		switch c.name {
		case "annotation":
		case "sequence", "choice", "simpleContent":
			if seenContent {
				return nil, errors.New("more than one content model")
			}
			seenContent = true
			var err error
			switch c.name {
			case "sequence":
				t.particles, err = p.sequence(c)
			case "choice":
				var pt particle
				pt, err = p.choice(c)
				t.particles = []particle{pt}
			default:
				err = p.simpleContent(c, t)
			}
			if err != nil {
				return nil, err
			}
		case "attribute":
			a, err := p.attribute(c)
			if err != nil {
				return nil, err
			}
			t.attrs = append(t.attrs, a)
		default:
			return nil, fmt.Errorf("unsupported XSD construct xs:%s", c.name)
		}
	}
	return t, nil
}

func (p *parser) sequence(n *node) ([]particle, error) {
	if _, ok := n.attr("minOccurs"); ok {
		return nil, errors.New("occurrence bounds on xs:sequence are not supported")
	}
	if _, ok := n.attr("maxOccurs"); ok {
		return nil, errors.New("occurrence bounds on xs:sequence are not supported")
	}
	var ps []particle
	for _, c := range n.children {
		if err := p.xsdOnly(c); err != nil {
			return nil, err
		}
		switch c.name {
		case "annotation":
		case "element":
			e, err := p.element(c, false)
			if err != nil {
				return nil, err
			}
			ps = append(ps, particle{min: e.min, max: e.max, choice: []*element{e}})
			e.min, e.max = 1, 1 // the particle counts occurrences
		case "choice":
			pt, err := p.choice(c)
			if err != nil {
				return nil, err
			}
			ps = append(ps, pt)
		default:
			return nil, fmt.Errorf("unsupported XSD construct xs:%s in xs:sequence", c.name)
		}
	}
	return ps, nil
}

func (p *parser) choice(n *node) (particle, error) {
	min, max, err := occurs(n)
	if err != nil {
		return particle{}, fmt.Errorf("xs:choice: %w", err)
	}
	pt := particle{min: min, max: max}
	for _, c := range n.children {
		if err := p.xsdOnly(c); err != nil {
			return particle{}, err
		}
		switch c.name {
		case "annotation":
		case "element":
			e, err := p.element(c, false)
			if err != nil {
				return particle{}, err
			}
			if e.min != 1 || e.max != 1 {
				return particle{}, fmt.Errorf("xs:choice: element %s: occurrence bounds inside a choice are not supported", e.name)
			}
			pt.choice = append(pt.choice, e)
		default:
			return particle{}, fmt.Errorf("unsupported XSD construct xs:%s in xs:choice", c.name)
		}
	}
	if len(pt.choice) == 0 {
		return particle{}, errors.New("an empty xs:choice")
	}
	return pt, nil
}

func (p *parser) simpleContent(n *node, t *typeDef) error {
	if len(n.children) != 1 || n.children[0].name != "extension" {
		return errors.New("xs:simpleContent: only a single xs:extension is supported")
	}
	ext := n.children[0]
	base, _ := ext.attr("base")
	if base == "" {
		return errors.New("xs:extension has no base")
	}
	t.text = &simpleType{baseName: base, maxLen: -1}
	p.simples = append(p.simples, t.text)
	for _, c := range ext.children {
		if err := p.xsdOnly(c); err != nil {
			return err
		}
		if c.name != "attribute" {
			return fmt.Errorf("unsupported XSD construct xs:%s in xs:extension", c.name)
		}
		a, err := p.attribute(c)
		if err != nil {
			return err
		}
		t.attrs = append(t.attrs, a)
	}
	return nil
}

func (p *parser) attribute(n *node) (*attribute, error) {
	name, _ := n.attr("name")
	typ, _ := n.attr("type")
	if name == "" || typ == "" {
		return nil, errors.New("xs:attribute needs a name and a type")
	}
	a := &attribute{name: name, typeName: typ}
	if len(n.children) > 0 {
		return nil, fmt.Errorf("attribute %s: inline types are not supported", name)
	}
	switch use, _ := n.attr("use"); use {
	case "required":
		a.required = true
	case "", "optional":
	default:
		return nil, fmt.Errorf("attribute %s: use %q is not supported", name, use)
	}
	p.attrs = append(p.attrs, a)
	return a, nil
}

func (p *parser) simpleType(n *node) (*simpleType, error) {
	if len(n.children) != 1 || n.children[0].name != "restriction" {
		return nil, errors.New("xs:simpleType: only a single xs:restriction is supported")
	}
	r := n.children[0]
	base, _ := r.attr("base")
	if base == "" {
		return nil, errors.New("xs:restriction has no base")
	}
	st := &simpleType{baseName: base, maxLen: -1}
	for _, c := range r.children {
		if err := p.xsdOnly(c); err != nil {
			return nil, err
		}
		v, _ := c.attr("value")
		switch c.name {
		case "enumeration":
			st.enum = append(st.enum, v)
		case "pattern":
			// XSD patterns match the whole value; their syntax, in the
			// part this schema uses, is also RE2's.
			re, err := regexp.Compile(`^(?:` + v + `)$`)
			if err != nil {
				return nil, fmt.Errorf("xs:pattern %q: %w", v, err)
			}
			st.patterns = append(st.patterns, re)
		case "minLength", "maxLength":
			l, err := strconv.Atoi(v)
			if err != nil || l < 0 {
				return nil, fmt.Errorf("xs:%s %q is not a non-negative integer", c.name, v)
			}
			if c.name == "minLength" {
				st.minLen = l
			} else {
				st.maxLen = l
			}
		case "annotation":
		default:
			return nil, fmt.Errorf("unsupported XSD facet xs:%s", c.name)
		}
	}
	p.simples = append(p.simples, st)
	return st, nil
}

// resolve links type names to types and checks that every simple type
// bottoms out in a built-in.
func (p *parser) resolve() error {
	for _, e := range p.elements {
		b, err := p.builtin(e.typeName)
		if err != nil {
			return fmt.Errorf("element %s: %w", e.name, err)
		}
		switch {
		case b != "":
			e.typ = &typeDef{text: &simpleType{name: e.typeName, builtin: b, maxLen: -1}}
		case p.complex[e.typeName] != nil:
			e.typ = p.complex[e.typeName]
		case p.simple[e.typeName] != nil:
			e.typ = &typeDef{text: p.simple[e.typeName]}
		default:
			return fmt.Errorf("element %s: type %q is not declared", e.name, e.typeName)
		}
	}
	for _, a := range p.attrs {
		b, err := p.builtin(a.typeName)
		if err != nil {
			return fmt.Errorf("attribute %s: %w", a.name, err)
		}
		switch {
		case b != "":
			a.typ = &simpleType{name: a.typeName, builtin: b, maxLen: -1}
		case p.simple[a.typeName] != nil:
			a.typ = p.simple[a.typeName]
		default:
			return fmt.Errorf("attribute %s: simple type %q is not declared", a.name, a.typeName)
		}
	}
	for _, st := range p.simples {
		b, err := p.builtin(st.baseName)
		if err != nil {
			return err
		}
		if b != "" {
			st.builtin = b
			continue
		}
		if st.base = p.simple[st.baseName]; st.base == nil {
			return fmt.Errorf("restriction base %q is not a declared simple type", st.baseName)
		}
	}
	// Find each simple type's built-in, refusing cycles.
	for _, st := range p.simples {
		seen := map[*simpleType]bool{}
		for t := st; t.builtin == ""; t = t.base {
			if seen[t] {
				return fmt.Errorf("simple type %q derives from itself", st.baseName)
			}
			seen[t] = true
			if t.base == nil {
				return fmt.Errorf("simple type %q has no built-in base", st.baseName)
			}
			if t.base.builtin != "" {
				st.builtin = t.base.builtin
				break
			}
		}
	}
	return nil
}
