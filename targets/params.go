package targets

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gameday/gameday/runbook"
)

// Type names how a param value is written and checked. The names are words,
// not Go identifiers, because they appear in docs/attacks.md and are what
// custom attacks will declare for their own params.
type Type string

// The param types. All but TypeTemplate accept printable ASCII only, so look-
// alike letters, bidi controls and zero-width characters never get through.
const (
	TypeDuration        Type = "duration"          // Go duration > 0: 200ms, 1m30s
	TypeOffset          Type = "offset"            // signed non-zero duration: -5m, 90s
	TypePercent         Type = "percent"           // 0-100: 80 or 80%
	TypeShare           Type = "share"             // share of requests: 10% or 0.1
	TypeBytes           Type = "bytes"             // 512MiB, 1GiB, 100MB, 4096; N% if PercentOf is set
	TypeInt             Type = "int"               // whole number; N% if PercentOf is set
	TypeFloat           Type = "float"             // decimal number, no exponent
	TypeBool            Type = "bool"              // true/false, yes/no, on/off
	TypeEnum            Type = "enum"              // one of Enum, case-insensitive
	TypeList            Type = "list"              // comma-separated items of Elem
	TypeInterface       Type = "interface"         // network interface name
	TypeCIDR            Type = "cidr"              // IPv4/IPv6 prefix; a bare address is /32 or /128
	TypePort            Type = "port"              // 1-65535
	TypeProcess         Type = "process"           // exact comm name
	TypePath            Type = "path"              // clean absolute path
	TypeSignal          Type = "signal"            // KILL, SIGTERM, 9 ...
	TypeUnit            Type = "unit"              // systemd unit
	TypeDNSName         Type = "dns-name"          // api.example.com
	TypeStatus          Type = "http-status"       // 100-599
	TypeInstanceID      Type = "ec2-instance-id"   // i-0123456789abcdef0
	TypeSecurityGroupID Type = "security-group-id" // sg-0123456789abcdef0
	TypeFISTemplateID   Type = "fis-template-id"   // EXT...
	TypeARN             Type = "arn"               // arn:aws:...
	TypeTemplate        Type = "template"          // a custom attack's shell command, run as written
)

// Types lists every param type in the order docs/attacks.md describes them.
func Types() []Type {
	return []Type{
		TypeDuration, TypeOffset, TypePercent, TypeShare, TypeBytes, TypeInt, TypeFloat,
		TypeBool, TypeEnum, TypeList, TypeInterface, TypeCIDR, TypePort, TypeProcess,
		TypePath, TypeSignal, TypeUnit, TypeDNSName, TypeStatus, TypeInstanceID,
		TypeSecurityGroupID, TypeFISTemplateID, TypeARN, TypeTemplate,
	}
}

// ParamSpec declares one param of an attack kind.
type ParamSpec struct {
	Name     string
	Type     Type
	Required bool
	// Default is written as a runbook would write it and applied when the
	// param is absent, so journals record what actually ran.
	Default string
	// Min and Max are inclusive bounds in the type's own notation ("1ms",
	// "4", "1MiB", "50%"); empty leaves only the type's own limits. For bytes
	// and int params that also take a percentage they bound the absolute form.
	Min, Max string
	Enum     []string // enum: the choices; list of enum: the choices per item
	Elem     Type     // list: the type of each item
	// PercentOf lets a bytes or int param be given as "N%" of something, and
	// says of what ("total memory"); empty refuses percentages.
	PercentOf string
	Help      string
}

// value is one parsed param.
type value struct {
	typ   Type
	canon string
	d     time.Duration // duration, offset
	n     int64         // int, bytes, port, status
	f     float64       // float; percent and share as 0-100; a percentage given to bytes or int
	pct   bool          // given as a percentage
	b     bool
	list  []string // canonical items
}

// Check parses raw as this param would be parsed in a runbook and returns its
// canonical form, or an error saying what was expected.
func (p *ParamSpec) Check(raw string) (string, error) {
	v, err := p.parse(raw)
	return v.canon, err
}

func (p *ParamSpec) parse(raw string) (value, error) {
	v, err := p.parseBare(raw)
	if err != nil {
		return v, err
	}
	if err := p.inBounds(v, raw); err != nil {
		return value{}, err
	}
	return v, nil
}

// expected is the message for a value of the wrong shape.
func (p *ParamSpec) expected(raw string) error {
	return fmt.Errorf("expected %s, found %s", p.describe(), quote(raw))
}

// descriptions say what each type accepts, with an example; describe adds
// the ones that depend on the spec (percentages, enum choices).
var descriptions = map[Type]string{
	TypeDuration:        "a duration such as 200ms",
	TypeOffset:          "a clock offset such as -5m or 90s",
	TypePercent:         "a percentage such as 80 or 80%",
	TypeShare:           "a share of requests such as 10% or 0.1",
	TypeBytes:           "a size such as 512MiB, 1GiB or 4096 (bytes)",
	TypeInt:             "a whole number such as 4",
	TypeFloat:           "a number such as 1.5",
	TypeBool:            "true or false",
	TypeInterface:       "a network interface name such as eth0 (1-15 letters, digits, '.', '_' or '-', not starting with '-')",
	TypeCIDR:            "a CIDR such as 10.0.0.0/24 or an IP address such as 10.0.0.5",
	TypePort:            "a port from 1 to 65535",
	TypeProcess:         "a process name as ps -o comm shows it, such as nginx (1-15 letters, digits, '.', '_', '+' or '-', not starting with '-')",
	TypePath:            "a clean absolute path such as /var/log (letters, digits and . _ - + , @ = : ~ /, no '..')",
	TypeSignal:          "a signal name such as KILL, TERM or STOP (or one of the numbers 1, 2, 3, 6, 9, 14, 15)",
	TypeUnit:            "a systemd unit such as nginx or nginx.service",
	TypeDNSName:         "a DNS name such as api.example.com",
	TypeStatus:          "an HTTP status code such as 500",
	TypeInstanceID:      "an EC2 instance id such as i-0123456789abcdef0",
	TypeSecurityGroupID: "a security group id such as sg-0123456789abcdef0",
	TypeFISTemplateID:   "an FIS experiment template id such as EXT1a2b3c4d5e6f7",
	TypeARN:             "an ARN such as arn:aws:iam::123456789012:role/chaos",
	TypeTemplate:        "a command template (printable text; tabs and newlines allowed; no control, bidi or zero-width characters)",
}

// describe says what the type accepts, with an example; it is the middle of
// every "expected ..., found ..." message.
func (p *ParamSpec) describe() string {
	switch {
	case p.Type == TypeBytes && p.PercentOf != "":
		return descriptions[TypeBytes] + ", or a percentage of " + p.PercentOf + " such as 80%"
	case p.Type == TypeInt && p.PercentOf != "":
		return "a whole number such as 10, or a percentage of " + p.PercentOf + " such as 10%"
	case p.Type == TypeEnum:
		return "one of " + strings.Join(p.Enum, ", ")
	case p.Type == TypeList:
		ex := "a,b"
		if len(p.Enum) >= 2 {
			ex = p.Enum[0] + "," + p.Enum[1]
		}
		return "a comma-separated list such as " + ex
	}
	if d, ok := descriptions[p.Type]; ok {
		return d
	}
	return "a value of type " + string(p.Type)
}

// nouns are the ordered types' descriptions without the example, for bound
// messages.
var nouns = map[Type]string{
	TypeDuration: "a duration",
	TypeOffset:   "a clock offset",
	TypePercent:  "a percentage",
	TypeShare:    "a share of requests",
	TypeBytes:    "a size",
	TypeInt:      "a whole number",
	TypeFloat:    "a number",
	TypePort:     "a port",
	TypeStatus:   "an HTTP status code",
}

func (p *ParamSpec) noun() string {
	if n, ok := nouns[p.Type]; ok {
		return n
	}
	return string(p.Type)
}

// quote shows a user's value in a message: ASCII only, so a bidi control or
// an escape sequence in a runbook cannot rearrange or recolour the terminal
// that prints the error, and cut short so a pasted script stays readable.
func quote(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "..."
	}
	return strconv.QuoteToASCII(s)
}

// plainASCII reports whether s is non-empty printable ASCII without spaces:
// the alphabet of every type but lists (which allow ", ") and templates.
func plainASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// only reports whether every byte of s is an ASCII letter, digit or in extra.
func only(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

func digits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// decimal parses "12" or "12.5": no sign, exponent, hex, inf or NaN, which
// ParseFloat would all accept.
func decimal(s string) (float64, bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if !digits(whole) || dot && !digits(frac) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// round9 hides binary float noise (0.1*100 = 10.000000000000002) from
// canonical values.
func round9(f float64) float64 { return math.Round(f*1e9) / 1e9 }

func formatFloat(f float64) string { return strconv.FormatFloat(round9(f), 'f', -1, 64) }

// formatDuration is time.Duration.String without the zero tails, so a
// journal says 5m rather than 5m0s.
func formatDuration(d time.Duration) string { return runbook.FormatDuration(d) }

// errShape means "not this type's syntax"; parseBare turns it into the
// type's "expected ..." message. Any other error a parser returns is
// already worded for the user.
var errShape = errors.New("shape")

// typeParser reads one type's syntax from raw, which parseBare has already
// found to be plain ASCII, and returns the value with its canonical form.
type typeParser func(p *ParamSpec, raw string) (value, error)

// parsers holds every type but templates, which are not plain ASCII.
var parsers map[Type]typeParser

func init() {
	// Filled here rather than where it is declared: lists parse their items
	// through parseBare, which the compiler would take for an
	// initialisation cycle.
	parsers = map[Type]typeParser{
		TypeDuration:        parseDurationValue,
		TypeOffset:          parseDurationValue,
		TypePercent:         func(_ *ParamSpec, raw string) (value, error) { return percentValue(parsePercent(raw)) },
		TypeShare:           func(_ *ParamSpec, raw string) (value, error) { return percentValue(parseShare(raw)) },
		TypeBytes:           (*ParamSpec).parseAmount,
		TypeInt:             (*ParamSpec).parseAmount,
		TypeFloat:           parseFloatValue,
		TypeBool:            parseBoolValue,
		TypeEnum:            (*ParamSpec).parseEnum,
		TypeList:            (*ParamSpec).parseList,
		TypeInterface:       parseInterfaceValue,
		TypeCIDR:            (*ParamSpec).parseCIDR,
		TypePort:            func(_ *ParamSpec, raw string) (value, error) { return parseIntIn(raw, 1, 65535) },
		TypeProcess:         parseProcessValue,
		TypePath:            (*ParamSpec).parsePath,
		TypeSignal:          canonical(parseSignal),
		TypeUnit:            parseUnitValue,
		TypeDNSName:         (*ParamSpec).parseDNSName,
		TypeStatus:          func(_ *ParamSpec, raw string) (value, error) { return parseIntIn(raw, 100, 599) },
		TypeInstanceID:      canonical(func(s string) (string, error) { return parseAWSID(s, "i-") }),
		TypeSecurityGroupID: canonical(func(s string) (string, error) { return parseAWSID(s, "sg-") }),
		TypeFISTemplateID:   canonical(parseFISTemplateID),
		TypeARN:             canonical(func(s string) (string, error) { return s, parseARN(s) }),
	}
}

func (p *ParamSpec) parseBare(raw string) (value, error) {
	if p.Type == TypeTemplate {
		if err := checkTemplate(raw); err != nil {
			return value{}, fmt.Errorf("expected %s, found %s (%v)", p.describe(), quote(raw), err)
		}
		return value{typ: p.Type, canon: raw}, nil
	}
	ascii := plainASCII(raw)
	if p.Type == TypeList {
		ascii = plainASCII(strings.ReplaceAll(raw, ", ", ","))
	}
	if !ascii {
		return value{}, p.expected(raw)
	}
	parse, ok := parsers[p.Type]
	if !ok {
		return value{}, fmt.Errorf("unknown param type %q", p.Type)
	}
	v, err := parse(p, raw)
	if errors.Is(err, errShape) {
		return value{}, p.expected(raw)
	}
	if err != nil {
		return value{}, err
	}
	v.typ = p.Type
	return v, nil
}

// canonical makes a parser of a type whose value is only its canonical text.
func canonical(parse func(string) (string, error)) typeParser {
	return func(_ *ParamSpec, raw string) (value, error) {
		s, err := parse(raw)
		return value{canon: s}, err
	}
}

func parseDurationValue(_ *ParamSpec, raw string) (value, error) {
	d, err := time.ParseDuration(raw)
	if err != nil {
		return value{}, errShape
	}
	return value{d: d, canon: formatDuration(d)}, nil
}

func percentValue(f float64, err error) (value, error) {
	return value{f: f, canon: formatFloat(f) + "%"}, err
}

// parseAmount reads a bytes or int param: a size or whole number, or, where
// the spec allows, a percentage of something.
func (p *ParamSpec) parseAmount(raw string) (value, error) {
	if num, ok := strings.CutSuffix(raw, "%"); ok && p.PercentOf != "" {
		if p.Type == TypeInt && !digits(num) {
			return value{}, errShape
		}
		v, err := percentValue(parsePercent(raw))
		v.pct = true
		return v, err
	}
	if p.Type == TypeBytes {
		n, err := parseBytes(raw)
		return value{n: n, canon: formatBytes(n)}, err
	}
	n, err := parseInt(raw)
	return value{n: n, canon: strconv.FormatInt(n, 10)}, err
}

// parseIntIn reads a whole number written in digits alone, from lo to hi.
func parseIntIn(raw string, lo, hi int64) (value, error) {
	n, err := parseInt(raw)
	if err == nil && (!digits(raw) || n < lo || n > hi) {
		err = errShape
	}
	return value{n: n, canon: strconv.FormatInt(n, 10)}, err
}

func parseFloatValue(_ *ParamSpec, raw string) (value, error) {
	num, neg := strings.CutPrefix(raw, "-")
	f, ok := decimal(num)
	if !ok {
		return value{}, errShape
	}
	if neg && f != 0 { // no "-0"
		f = -f
	}
	return value{f: f, canon: formatFloat(f)}, nil
}

func parseBoolValue(_ *ParamSpec, raw string) (value, error) {
	switch strings.ToLower(raw) {
	case "true", "yes", "on":
		return value{b: true, canon: "true"}, nil
	case "false", "no", "off":
		return value{b: false, canon: "false"}, nil
	}
	return value{}, errShape
}

func (p *ParamSpec) parseEnum(raw string) (value, error) {
	if i := slices.IndexFunc(p.Enum, func(e string) bool { return strings.EqualFold(e, raw) }); i >= 0 {
		return value{canon: p.Enum[i]}, nil
	}
	msg := fmt.Sprintf("expected %s, found %s", p.describe(), quote(raw))
	if s := runbook.Closest(strings.ToLower(raw), lower(p.Enum)); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", p.Enum[slices.Index(lower(p.Enum), s)])
	}
	return value{}, errors.New(msg)
}

func parseInterfaceValue(_ *ParamSpec, raw string) (value, error) {
	if len(raw) > 15 || raw[0] == '-' || raw == "." || raw == ".." || !only(raw, "._-") {
		return value{}, errShape
	}
	return value{canon: raw}, nil
}

func parseProcessValue(_ *ParamSpec, raw string) (value, error) {
	if len(raw) > 15 && only(raw, "._+-") && raw[0] != '-' {
		return value{}, fmt.Errorf("expected a process name of at most 15 characters, found %s (the kernel keeps only the first 15 characters of a process name; use those, or pidfile)", quote(raw))
	}
	if len(raw) > 15 || raw[0] == '-' || !only(raw, "._+-") {
		return value{}, errShape
	}
	return value{canon: raw}, nil
}

func parseUnitValue(_ *ParamSpec, raw string) (value, error) {
	unit, err := parseUnit(raw)
	if err == nil && len(unit) > maxUnitName {
		return value{}, fmt.Errorf("expected a systemd unit name of at most %d characters with its type suffix, found %s, which is %d once .service is added", maxUnitName, quote(raw), len(unit))
	}
	return value{canon: unit}, err
}

func parseFISTemplateID(raw string) (string, error) {
	if id, ok := strings.CutPrefix(raw, "EXT"); !ok || len(id) < 4 || len(id) > 61 || !only(id, "") {
		return "", errShape
	}
	return raw, nil
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// parseInt takes an optional minus and decimal digits only: strconv alone
// would also take "+5" and, with base 0, "0x10".
func parseInt(s string) (int64, error) {
	if !digits(strings.TrimPrefix(s, "-")) {
		return 0, errShape
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil { // out of range
		return 0, errShape
	}
	return n, nil
}

func parsePercent(s string) (float64, error) {
	f, ok := decimal(strings.TrimSuffix(s, "%"))
	if !ok || f > 100 {
		return 0, errShape
	}
	return f, nil
}

// parseShare refuses a bare whole number: "1" could mean 1% or all requests,
// and guessing wrong fails every request, so it must carry a % or a point.
func parseShare(s string) (float64, error) {
	if strings.HasSuffix(s, "%") {
		return parsePercent(s)
	}
	f, ok := decimal(s)
	if !ok || !strings.Contains(s, ".") || f > 1 {
		return 0, errShape
	}
	return f * 100, nil
}

// byteUnit is the multiplier of a size suffix; case does not matter because
// the i, not the case, tells binary from decimal units.
func byteUnit(u string) (int64, bool) {
	switch strings.ToLower(u) {
	case "", "b":
		return 1, true
	case "kb":
		return 1e3, true
	case "mb":
		return 1e6, true
	case "gb":
		return 1e9, true
	case "tb":
		return 1e12, true
	case "kib":
		return 1 << 10, true
	case "mib":
		return 1 << 20, true
	case "gib":
		return 1 << 30, true
	case "tib":
		return 1 << 40, true
	}
	return 0, false
}

// maxBytes keeps sizes far from int64 overflow; no attack needs more.
const maxBytes = 1 << 60

func parseBytes(s string) (int64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], s[i:]
	mult, ok := byteUnit(unit)
	if _, okNum := decimal(num); !ok || !okNum {
		return 0, errShape
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, errShape
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	n := new(big.Int).Quo(r.Num(), r.Denom()) // whole bytes, rounded down
	if !n.IsInt64() || n.Int64() > maxBytes {
		return 0, errShape
	}
	return n.Int64(), nil
}

// formatBytes picks the largest unit that divides n exactly, binary first,
// so 512MiB stays 512MiB and 100MB stays 100MB.
func formatBytes(n int64) string {
	if n == 0 {
		return "0"
	}
	for _, u := range []string{"TiB", "GiB", "MiB", "KiB", "TB", "GB", "MB", "kB"} {
		m, _ := byteUnit(u)
		if n%m == 0 {
			return strconv.FormatInt(n/m, 10) + u
		}
	}
	return strconv.FormatInt(n, 10)
}

func (p *ParamSpec) parseList(raw string) (value, error) {
	elem := ParamSpec{Name: p.Name, Type: p.Elem, Enum: p.Enum}
	v := value{typ: TypeList}
	for i, item := range strings.Split(raw, ",") {
		item = strings.TrimPrefix(item, " ")
		iv, err := elem.parse(item)
		if err != nil {
			return value{}, fmt.Errorf("expected %s; item %d: %v", p.describe(), i+1, err)
		}
		if slices.Contains(v.list, iv.canon) {
			return value{}, fmt.Errorf("expected %s; item %d: %s is listed twice", p.describe(), i+1, quote(iv.canon))
		}
		v.list = append(v.list, iv.canon)
	}
	v.canon = strings.Join(v.list, ",")
	return v, nil
}

func (p *ParamSpec) parseCIDR(raw string) (value, error) {
	if strings.Contains(raw, "%") { // an IPv6 zone names a local link, not a destination
		return value{}, p.expected(raw)
	}
	if !strings.Contains(raw, "/") {
		addr, err := netip.ParseAddr(raw)
		if err != nil {
			return value{}, p.expected(raw)
		}
		return value{typ: TypeCIDR, canon: netip.PrefixFrom(addr, addr.BitLen()).String()}, nil
	}
	pfx, err := netip.ParsePrefix(raw)
	if err != nil {
		return value{}, p.expected(raw)
	}
	if m := pfx.Masked(); m != pfx {
		// Masking silently would attack a wider range than the author may
		// have meant; say both readings instead.
		return value{}, fmt.Errorf("expected a network address, found %s with host bits set; write %s for the network or %s for the one host",
			quote(raw), m, netip.PrefixFrom(pfx.Addr(), pfx.Addr().BitLen()))
	}
	return value{typ: TypeCIDR, canon: pfx.String()}, nil
}

func (p *ParamSpec) parsePath(raw string) (value, error) {
	if raw[0] != '/' || len(raw) > 4096 || !only(raw, "._-+,@=:~/") {
		return value{}, p.expected(raw)
	}
	// ".." is refused rather than cleaned away: /var/log/../../etc is not a
	// path anyone means to fill or kill from.
	if slices.Contains(strings.Split(raw, "/"), "..") {
		return value{}, fmt.Errorf("expected an absolute path without '..', found %s", quote(raw))
	}
	return value{typ: TypePath, canon: path.Clean(raw)}, nil
}

// signalNames are the Linux signals a runbook may name.
const signalNames = "HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS"

func parseSignal(s string) (string, error) {
	if digits(s) {
		// Only the numbers POSIX fixes: the rest differ between
		// architectures, and 10 is USR1 on one host and BUS on another.
		switch s {
		case "1":
			return "HUP", nil
		case "2":
			return "INT", nil
		case "3":
			return "QUIT", nil
		case "6":
			return "ABRT", nil
		case "9":
			return "KILL", nil
		case "14":
			return "ALRM", nil
		case "15":
			return "TERM", nil
		}
		return "", errShape
	}
	name := strings.ToUpper(s)
	name = strings.TrimPrefix(name, "SIG")
	switch name {
	case "IOT":
		name = "ABRT"
	case "POLL":
		name = "IO"
	case "CLD":
		name = "CHLD"
	}
	if !slices.Contains(strings.Fields(signalNames), name) {
		return "", errShape
	}
	return name, nil
}

// unitSuffixes are the systemd unit types; a name without one is a service,
// as systemctl itself assumes.
const unitSuffixes = ".service .socket .target .timer .mount .automount .path .slice .scope .device .swap"

// maxUnitName is systemd's limit on a unit name, suffix included.
const maxUnitName = 255

// parseUnit returns the unit's full name. The canonical form is what the
// executors parse again when they plan, so its length is checked after the
// suffix is added, by the caller.
func parseUnit(s string) (string, error) {
	if len(s) > maxUnitName || s[0] == '-' || s[0] == '.' || s[0] == '@' || !only(s, ":_.@-") || strings.Count(s, "@") > 1 {
		return "", errShape
	}
	hasSuffix := slices.ContainsFunc(strings.Fields(unitSuffixes), func(suf string) bool {
		return strings.HasSuffix(s, suf) && len(s) > len(suf)
	})
	if !hasSuffix {
		s += ".service"
	}
	if strings.Contains(s, "@.") { // a template without an instance cannot be stopped
		return "", errShape
	}
	return s, nil
}

func (p *ParamSpec) parseDNSName(raw string) (value, error) {
	name := strings.ToLower(strings.TrimSuffix(raw, "."))
	if _, err := netip.ParseAddr(name); err == nil {
		return value{}, fmt.Errorf("expected %s, found the address %s (use a blackhole attack for addresses)", p.describe(), quote(raw))
	}
	if name == "" || len(name) > 253 || !only(name, ".-_") {
		return value{}, p.expected(raw)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return value{}, p.expected(raw)
		}
	}
	return value{typ: TypeDNSName, canon: name}, nil
}

// parseAWSID checks the short (8) and long (17) hex id forms AWS issues.
func parseAWSID(s, prefix string) (string, error) {
	id, ok := strings.CutPrefix(strings.ToLower(s), prefix)
	if !ok || len(id) != 8 && len(id) != 17 || strings.Trim(id, "0123456789abcdef") != "" {
		return "", errShape
	}
	return prefix + id, nil
}

func parseARN(s string) error {
	f := strings.SplitN(s, ":", 6)
	if len(s) > 2048 || len(f) != 6 || f[0] != "arn" {
		return errShape
	}
	partition, service, region, account, resource := f[1], f[2], f[3], f[4], f[5]
	switch partition {
	case "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc":
	default:
		return errShape
	}
	lowerDash := func(s string) bool { return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == "" }
	switch {
	case service == "" || !lowerDash(service) || !lowerDash(region):
		return errShape
	case account != "" && account != "aws" && (len(account) != 12 || !digits(account)):
		return errShape
	case resource == "" || !only(resource, "_+=,.@:/-"):
		return errShape
	}
	return nil
}

// maxTemplate bounds a custom attack's command; a longer one belongs in a
// script on the host.
const maxTemplate = 16 << 10

// checkTemplate accepts shell text but no characters that hide what it does:
// control characters other than tab and newline, and the Unicode format
// characters (bidi overrides, zero-width spaces) of "trojan source".
func checkTemplate(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New("empty")
	case len(s) > maxTemplate:
		return fmt.Errorf("longer than %d bytes", maxTemplate)
	case !utf8.ValidString(s):
		return errors.New("not UTF-8")
	}
	for _, r := range s {
		if r == '\t' || r == '\n' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("U+%04X is not allowed", r)
		}
	}
	return nil
}

// ordered reports whether Min and Max mean anything for the type, and how to
// compare its values.
func (p *ParamSpec) ordered() bool {
	switch p.Type {
	case TypeDuration, TypeOffset, TypePercent, TypeShare, TypeBytes, TypeInt, TypeFloat, TypePort, TypeStatus:
		return true
	}
	return false
}

// less compares two parsed values of this param's type.
func (p *ParamSpec) less(a, b value) bool {
	switch p.Type {
	case TypeDuration, TypeOffset:
		return a.d < b.d
	case TypePercent, TypeShare, TypeFloat:
		return a.f < b.f
	}
	return a.n < b.n
}

// bounds parses Min and Max; an error means the spec itself is wrong, which
// the catalogue refuses when it is built.
func (p *ParamSpec) bounds() (lo, hi *value, err error) {
	for _, b := range []struct {
		s   string
		dst **value
	}{{p.Min, &lo}, {p.Max, &hi}} {
		if b.s == "" {
			continue
		}
		v, err := p.parseBare(b.s)
		if err != nil || v.pct {
			return nil, nil, fmt.Errorf("bound %q: %v", b.s, err)
		}
		*b.dst = &v
	}
	return lo, hi, nil
}

// inBounds applies the type's own range and the spec's Min and Max.
func (p *ParamSpec) inBounds(v value, raw string) error {
	lo, hi, err := p.bounds()
	if err != nil {
		return err
	}
	if v.pct {
		// A percentage of something is at most 100, and 0 only where the
		// absolute form may be 0 (ssm max_errors), since elsewhere 0% does nothing.
		if v.f == 0 && (p.Type == TypeBytes || lo != nil && lo.n > 0) {
			return fmt.Errorf("expected a percentage of %s greater than 0, found %s", p.PercentOf, quote(raw))
		}
		return nil
	}
	if p.Type == TypeOffset && v.d == 0 {
		return fmt.Errorf("expected a non-zero clock offset such as -5m or 90s, found %s", quote(raw))
	}
	if !p.ordered() {
		return nil
	}
	var bad bool
	switch {
	case lo != nil:
		bad = p.less(v, *lo)
	case p.Type == TypeDuration:
		bad = v.d <= 0
	case p.Type == TypeBytes:
		bad = v.n <= 0
	}
	if bad || hi != nil && p.less(*hi, v) {
		return fmt.Errorf("expected %s %s, found %s", p.noun(), p.rangeText(), quote(raw))
	}
	return nil
}

// rangeText says which values the type and bounds allow, for messages and
// the docs; "" when anything the type parses is allowed.
func (p *ParamSpec) rangeText() string {
	lo, hi, err := p.bounds()
	if err != nil || !p.ordered() {
		return ""
	}
	var from, to string
	if lo != nil {
		from = lo.canon
	}
	if hi != nil {
		to = hi.canon
	}
	switch p.Type {
	case TypePercent, TypeShare:
		from, to = cmp.Or(from, "0%"), cmp.Or(to, "100%")
	case TypePort:
		from, to = cmp.Or(from, "1"), cmp.Or(to, "65535")
	case TypeStatus:
		from, to = cmp.Or(from, "100"), cmp.Or(to, "599")
	}
	positive := p.Type == TypeDuration || p.Type == TypeBytes
	switch {
	case from != "" && to != "":
		return "from " + from + " to " + to
	case from != "":
		return "of at least " + from
	case to != "" && positive:
		return "greater than 0 and at most " + to
	case to != "":
		return "of at most " + to
	case positive:
		return "greater than 0"
	}
	return ""
}
