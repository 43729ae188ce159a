package targets

import (
	"strings"
	"testing"
	"time"
)

type typeCase struct {
	in, want string // want is the canonical value, or the error when bad
	bad      bool
}

func ok(in, want string) typeCase { return typeCase{in: in, want: want} }
func bad(in, msg string) typeCase { return typeCase{in: in, want: msg, bad: true} }

// runCases checks each input against spec: canonical value or exact message.
func runCases(t *testing.T, spec ParamSpec, cases []typeCase) {
	t.Helper()
	if err := spec.validate(); err != nil {
		t.Fatalf("spec %+v: %v", spec, err)
	}
	for _, c := range cases {
		got, err := spec.Check(c.in)
		switch {
		case c.bad && err == nil:
			t.Errorf("%s %q: accepted as %q, want error %q", spec.Type, c.in, got, c.want)
		case c.bad && err.Error() != c.want:
			t.Errorf("%s %q:\n got error %q\nwant error %q", spec.Type, c.in, err, c.want)
		case !c.bad && err != nil:
			t.Errorf("%s %q: %v, want %q", spec.Type, c.in, err, c.want)
		case !c.bad && got != c.want:
			t.Errorf("%s %q = %q, want %q", spec.Type, c.in, got, c.want)
		}
	}
}

func TestDuration(t *testing.T) {
	runCases(t, ParamSpec{Name: "d", Type: TypeDuration, Help: "h"}, []typeCase{
		ok("200ms", "200ms"), ok("5m", "5m"), ok("5m0s", "5m"), ok("1h30m", "1h30m"), ok("2h", "2h"),
		ok("1.5s", "1.5s"), ok("90s", "1m30s"), ok("1h0m30s", "1h0m30s"),
		bad("fast", `expected a duration such as 200ms, found "fast"`),
		bad("5", `expected a duration such as 200ms, found "5"`),
		bad("0s", `expected a duration greater than 0, found "0s"`),
		bad("-5s", `expected a duration greater than 0, found "-5s"`),
		bad("5µs", `expected a duration such as 200ms, found "5\u00b5s"`),
		bad("", `expected a duration such as 200ms, found ""`),
	})
	runCases(t, ParamSpec{Name: "d", Type: TypeDuration, Min: "1ms", Max: "30s", Help: "h"}, []typeCase{
		ok("1ms", "1ms"), ok("30s", "30s"),
		bad("500us", `expected a duration from 1ms to 30s, found "500us"`),
		bad("31s", `expected a duration from 1ms to 30s, found "31s"`),
	})
	runCases(t, ParamSpec{Name: "d", Type: TypeDuration, Max: "15m", Help: "h"}, []typeCase{
		bad("0s", `expected a duration greater than 0 and at most 15m, found "0s"`),
	})
	runCases(t, ParamSpec{Name: "d", Type: TypeDuration, Min: "0s", Help: "h"}, []typeCase{
		ok("0s", "0s"), ok("0", "0s"),
		bad("-1ms", `expected a duration of at least 0s, found "-1ms"`),
	})
}

func TestOffset(t *testing.T) {
	runCases(t, ParamSpec{Name: "o", Type: TypeOffset, Min: "-24h", Max: "24h", Help: "h"}, []typeCase{
		ok("-5m", "-5m"), ok("90s", "1m30s"), ok("+2h", "2h"), ok("-24h", "-24h"),
		bad("0s", `expected a non-zero clock offset such as -5m or 90s, found "0s"`),
		bad("-25h", `expected a clock offset from -24h to 24h, found "-25h"`),
		bad("yesterday", `expected a clock offset such as -5m or 90s, found "yesterday"`),
	})
}

func TestPercent(t *testing.T) {
	runCases(t, ParamSpec{Name: "p", Type: TypePercent, Help: "h"}, []typeCase{
		ok("80", "80%"), ok("80%", "80%"), ok("0", "0%"), ok("100%", "100%"), ok("12.5", "12.5%"), ok("007", "7%"),
		bad("101", `expected a percentage such as 80 or 80%, found "101"`),
		bad("-5", `expected a percentage such as 80 or 80%, found "-5"`),
		bad("80 %", `expected a percentage such as 80 or 80%, found "80 %"`),
		bad("1e2", `expected a percentage such as 80 or 80%, found "1e2"`),
		bad("NaN", `expected a percentage such as 80 or 80%, found "NaN"`),
		bad("80%%", `expected a percentage such as 80 or 80%, found "80%%"`),
	})
	runCases(t, ParamSpec{Name: "p", Type: TypePercent, Min: "1", Max: "99", Help: "h"}, []typeCase{
		bad("0.5", `expected a percentage from 1% to 99%, found "0.5"`),
		bad("100", `expected a percentage from 1% to 99%, found "100"`),
	})
}

func TestShare(t *testing.T) {
	runCases(t, ParamSpec{Name: "s", Type: TypeShare, Min: "1%", Help: "h"}, []typeCase{
		ok("10%", "10%"), ok("0.1", "10%"), ok("1.0", "100%"), ok("0.333", "33.3%"), ok("0.5", "50%"),
		bad(".5", `expected a share of requests such as 10% or 0.1, found ".5"`),
		bad("10", `expected a share of requests such as 10% or 0.1, found "10"`),
		bad("1", `expected a share of requests such as 10% or 0.1, found "1"`),
		bad("1.5", `expected a share of requests such as 10% or 0.1, found "1.5"`),
		bad("0.001", `expected a share of requests from 1% to 100%, found "0.001"`),
	})
}

func TestBytes(t *testing.T) {
	runCases(t, ParamSpec{Name: "b", Type: TypeBytes, Help: "h"}, []typeCase{
		ok("512MiB", "512MiB"), ok("1GiB", "1GiB"), ok("100MB", "100MB"), ok("4096", "4KiB"),
		ok("1000", "1kB"), ok("1023", "1023"), ok("1.5GiB", "1536MiB"), ok("2gib", "2GiB"), ok("3kb", "3kB"),
		ok("1024GiB", "1TiB"), ok("10B", "10"),
		bad("80%", `expected a size such as 512MiB, 1GiB or 4096 (bytes), found "80%"`),
		bad("1 GiB", `expected a size such as 512MiB, 1GiB or 4096 (bytes), found "1 GiB"`),
		bad("1G", `expected a size such as 512MiB, 1GiB or 4096 (bytes), found "1G"`),
		bad("0", `expected a size greater than 0, found "0"`),
		bad("-1MiB", `expected a size such as 512MiB, 1GiB or 4096 (bytes), found "-1MiB"`),
		bad("99999999TiB", `expected a size such as 512MiB, 1GiB or 4096 (bytes), found "99999999TiB"`),
	})
	runCases(t, ParamSpec{Name: "b", Type: TypeBytes, Min: "1MiB", PercentOf: "the file system", Help: "h"}, []typeCase{
		ok("95%", "95%"), ok("20GiB", "20GiB"), ok("0.5%", "0.5%"),
		bad("0%", `expected a percentage of the file system greater than 0, found "0%"`),
		bad("101%", `expected a size such as 512MiB, 1GiB or 4096 (bytes), or a percentage of the file system such as 80%, found "101%"`),
		bad("1KiB", `expected a size of at least 1MiB, found "1KiB"`),
	})
}

func TestInt(t *testing.T) {
	runCases(t, ParamSpec{Name: "i", Type: TypeInt, Min: "0", Max: "1024", Help: "h"}, []typeCase{
		ok("0", "0"), ok("4", "4"), ok("0010", "10"), ok("1024", "1024"),
		bad("+4", `expected a whole number such as 4, found "+4"`),
		bad("0x10", `expected a whole number such as 4, found "0x10"`),
		bad("4.0", `expected a whole number such as 4, found "4.0"`),
		bad("-1", `expected a whole number from 0 to 1024, found "-1"`),
		bad("2000", `expected a whole number from 0 to 1024, found "2000"`),
		bad("10%", `expected a whole number such as 4, found "10%"`),
		bad("99999999999999999999", `expected a whole number such as 4, found "99999999999999999999"`),
	})
	runCases(t, ParamSpec{Name: "i", Type: TypeInt, Min: "1", PercentOf: "the targeted instances", Help: "h"}, []typeCase{
		ok("10%", "10%"), ok("50", "50"),
		bad("0%", `expected a percentage of the targeted instances greater than 0, found "0%"`),
		bad("0", `expected a whole number of at least 1, found "0"`),
		bad("2.5%", `expected a whole number such as 10, or a percentage of the targeted instances such as 10%, found "2.5%"`),
	})
	runCases(t, ParamSpec{Name: "i", Type: TypeInt, Min: "0", PercentOf: "the targeted instances", Help: "h"}, []typeCase{
		ok("0%", "0%"), ok("0", "0"),
	})
}

func TestFloat(t *testing.T) {
	runCases(t, ParamSpec{Name: "f", Type: TypeFloat, Min: "-1", Max: "2.5", Help: "h"}, []typeCase{
		ok("1.5", "1.5"), ok("-0.25", "-0.25"), ok("2.50", "2.5"), ok("0", "0"),
		bad("3", `expected a number from -1 to 2.5, found "3"`),
		bad("1e0", `expected a number such as 1.5, found "1e0"`),
		bad("Inf", `expected a number such as 1.5, found "Inf"`),
		bad(".5", `expected a number such as 1.5, found ".5"`),
	})
}

func TestBool(t *testing.T) {
	runCases(t, ParamSpec{Name: "b", Type: TypeBool, Help: "h"}, []typeCase{
		ok("true", "true"), ok("False", "false"), ok("yes", "true"), ok("off", "false"),
		bad("1", `expected true or false, found "1"`),
		bad("maybe", `expected true or false, found "maybe"`),
	})
}

func TestEnum(t *testing.T) {
	runCases(t, ParamSpec{Name: "e", Type: TypeEnum, Enum: []string{"tcp", "udp", "all"}, Help: "h"}, []typeCase{
		ok("tcp", "tcp"), ok("UDP", "udp"),
		bad("icmp", `expected one of tcp, udp, all, found "icmp" (did you mean "tcp"?)`),
		bad("sctp-over-udp", `expected one of tcp, udp, all, found "sctp-over-udp"`),
		bad("tcpp", `expected one of tcp, udp, all, found "tcpp" (did you mean "tcp"?)`),
	})
}

func TestList(t *testing.T) {
	spec := ParamSpec{Name: "processes", Type: TypeList, Elem: TypeEnum, Enum: []string{"Launch", "Terminate", "HealthCheck"}, Help: "h"}
	runCases(t, spec, []typeCase{
		ok("Launch", "Launch"), ok("Launch,Terminate", "Launch,Terminate"), ok("launch, healthcheck", "Launch,HealthCheck"),
		bad("Launch,Lanch", `expected a comma-separated list such as Launch,Terminate; item 2: expected one of Launch, Terminate, HealthCheck, found "Lanch" (did you mean "Launch"?)`),
		bad("Launch,launch", `expected a comma-separated list such as Launch,Terminate; item 2: "Launch" is listed twice`),
		bad("Launch,,Terminate", `expected a comma-separated list such as Launch,Terminate; item 2: expected one of Launch, Terminate, HealthCheck, found ""`),
		bad("", `expected a comma-separated list such as Launch,Terminate, found ""`),
		bad("Launch,  Terminate", `expected a comma-separated list such as Launch,Terminate, found "Launch,  Terminate"`),
	})
	runCases(t, ParamSpec{Name: "ports", Type: TypeList, Elem: TypePort, Help: "h"}, []typeCase{
		ok("80,443", "80,443"),
		bad("80,0", `expected a comma-separated list such as a,b; item 2: expected a port from 1 to 65535, found "0"`),
	})
}

func TestInterface(t *testing.T) {
	const want = `expected a network interface name such as eth0 (1-15 letters, digits, '.', '_' or '-', not starting with '-'), found `
	runCases(t, ParamSpec{Name: "i", Type: TypeInterface, Help: "h"}, []typeCase{
		ok("eth0", "eth0"), ok("ens5", "ens5"), ok("br-3f2a.100", "br-3f2a.100"), ok("veth_a1", "veth_a1"), ok("abcdefghijklmno", "abcdefghijklmno"),
		bad("abcdefghijklmnop", want+`"abcdefghijklmnop"`),
		bad(".", want+`"."`), bad("..", want+`".."`),
		bad("eth0:1", want+`"eth0:1"`), bad("eth/0", want+`"eth/0"`), bad("-eth0", want+`"-eth0"`),
	})
}

func TestCIDR(t *testing.T) {
	const want = `expected a CIDR such as 10.0.0.0/24 or an IP address such as 10.0.0.5, found `
	runCases(t, ParamSpec{Name: "c", Type: TypeCIDR, Help: "h"}, []typeCase{
		ok("10.0.0.0/24", "10.0.0.0/24"), ok("10.0.0.5", "10.0.0.5/32"), ok("2001:db8::/32", "2001:db8::/32"),
		ok("2001:DB8::1", "2001:db8::1/128"), ok("0.0.0.0/0", "0.0.0.0/0"),
		bad("10.0.0.5/24", `expected a network address, found "10.0.0.5/24" with host bits set; write 10.0.0.0/24 for the network or 10.0.0.5/32 for the one host`),
		bad("10.0.0.0/33", want+`"10.0.0.0/33"`),
		bad("010.0.0.1", want+`"010.0.0.1"`),
		bad("fe80::1%eth0", want+`"fe80::1%eth0"`),
		bad("example.com", want+`"example.com"`),
	})
}

func TestPort(t *testing.T) {
	const want = `expected a port from 1 to 65535, found `
	runCases(t, ParamSpec{Name: "p", Type: TypePort, Help: "h"}, []typeCase{
		ok("1", "1"), ok("443", "443"), ok("65535", "65535"),
		bad("0", want+`"0"`), bad("65536", want+`"65536"`), bad("-1", want+`"-1"`), bad("http", want+`"http"`), bad("80/tcp", want+`"80/tcp"`),
	})
}

func TestProcess(t *testing.T) {
	const want = `expected a process name as ps -o comm shows it, such as nginx (1-15 letters, digits, '.', '_', '+' or '-', not starting with '-'), found `
	runCases(t, ParamSpec{Name: "p", Type: TypeProcess, Help: "h"}, []typeCase{
		ok("nginx", "nginx"), ok("java", "java"), ok("php-fpm8.2", "php-fpm8.2"), ok("g++", "g++"), ok("checkout_svc", "checkout_svc"),
		bad("checkout-service-worker", `expected a process name of at most 15 characters, found "checkout-service-worker" (the kernel keeps only the first 15 characters of a process name; use those, or pidfile)`),
		bad("-nginx", want+`"-nginx"`), bad("nginx: worker", want+`"nginx: worker"`), bad("/usr/sbin/nginx", want+`"/usr/sbin/nginx"`), bad("ngin*", want+`"ngin*"`),
	})
}

func TestPath(t *testing.T) {
	const want = `expected a clean absolute path such as /var/log (letters, digits and . _ - + , @ = : ~ /, no '..'), found `
	runCases(t, ParamSpec{Name: "p", Type: TypePath, Help: "h"}, []typeCase{
		ok("/var/log", "/var/log"), ok("/var/log/", "/var/log"), ok("/run//checkout.pid", "/run/checkout.pid"), ok("/", "/"),
		ok("/srv/./data", "/srv/data"), ok("/var/lib/app@2", "/var/lib/app@2"),
		bad("var/log", want+`"var/log"`), bad("~/data", want+`"~/data"`), bad("/var/log files", want+`"/var/log files"`),
		bad("/var/log/*", want+`"/var/log/*"`),
		bad("/var/log/../../etc", `expected an absolute path without '..', found "/var/log/../../etc"`),
		bad("/tmp/..", `expected an absolute path without '..', found "/tmp/.."`),
	})
}

func TestSignal(t *testing.T) {
	const want = `expected a signal name such as KILL, TERM or STOP (or one of the numbers 1, 2, 3, 6, 9, 14, 15), found `
	runCases(t, ParamSpec{Name: "s", Type: TypeSignal, Help: "h"}, []typeCase{
		ok("SIGKILL", "KILL"), ok("KILL", "KILL"), ok("kill", "KILL"), ok("9", "KILL"), ok("SigTerm", "TERM"), ok("15", "TERM"),
		ok("STOP", "STOP"), ok("usr1", "USR1"), ok("SIGIOT", "ABRT"), ok("HUP", "HUP"),
		bad("10", want+`"10"`), bad("0", want+`"0"`), bad("SIGFOO", want+`"SIGFOO"`), bad("SIG", want+`"SIG"`), bad("-9", want+`"-9"`),
	})
}

func TestUnit(t *testing.T) {
	const want = `expected a systemd unit such as nginx or nginx.service, found `
	runCases(t, ParamSpec{Name: "u", Type: TypeUnit, Help: "h"}, []typeCase{
		ok("nginx", "nginx.service"), ok("nginx.service", "nginx.service"), ok("getty@tty1.service", "getty@tty1.service"),
		ok("docker.socket", "docker.socket"), ok("app-worker", "app-worker.service"), ok("a.b", "a.b.service"),
		bad("getty@.service", want+`"getty@.service"`), bad("-nginx", want+`"-nginx"`), bad("nginx service", want+`"nginx service"`),
		// systemd's 255 includes the suffix added to a bare name.
		ok(strings.Repeat("u", 247), strings.Repeat("u", 247)+".service"), ok(strings.Repeat("u", 248)+".socket", strings.Repeat("u", 248)+".socket"),
		bad(strings.Repeat("u", 248), `expected a systemd unit name of at most 255 characters with its type suffix, found `+quote(strings.Repeat("u", 248))+`, which is 256 once .service is added`),
		bad("a@b@c", want+`"a@b@c"`), bad(`dev-x\x2d.device`, want+`"dev-x\\x2d.device"`),
	})
}

func TestDNSName(t *testing.T) {
	const want = `expected a DNS name such as api.example.com, found `
	runCases(t, ParamSpec{Name: "d", Type: TypeDNSName, Help: "h"}, []typeCase{
		ok("api.example.com", "api.example.com"), ok("API.Example.com.", "api.example.com"), ok("localhost", "localhost"), ok("_srv._tcp.example.com", "_srv._tcp.example.com"),
		bad("-a.example.com", want+`"-a.example.com"`), bad("a..b", want+`"a..b"`), bad("*.example.com", want+`"*.example.com"`),
		bad(strings.Repeat("a", 64)+".com", want+`"`+strings.Repeat("a", 60)+`..."`),
		bad("10.0.0.1", `expected a DNS name such as api.example.com, found the address "10.0.0.1" (use a blackhole attack for addresses)`),
	})
}

func TestStatus(t *testing.T) {
	runCases(t, ParamSpec{Name: "s", Type: TypeStatus, Help: "h"}, []typeCase{
		ok("500", "500"), ok("100", "100"), ok("599", "599"),
		bad("600", `expected an HTTP status code such as 500, found "600"`),
		bad("5xx", `expected an HTTP status code such as 500, found "5xx"`),
	})
	runCases(t, ParamSpec{Name: "s", Type: TypeStatus, Min: "400", Help: "h"}, []typeCase{
		bad("200", `expected an HTTP status code from 400 to 599, found "200"`),
	})
}

func TestAWSIDs(t *testing.T) {
	runCases(t, ParamSpec{Name: "i", Type: TypeInstanceID, Help: "h"}, []typeCase{
		ok("i-0123456789abcdef0", "i-0123456789abcdef0"), ok("i-1234abcd", "i-1234abcd"), ok("I-0123456789ABCDEF0", "i-0123456789abcdef0"),
		bad("i-123", `expected an EC2 instance id such as i-0123456789abcdef0, found "i-123"`),
		bad("sg-1234abcd", `expected an EC2 instance id such as i-0123456789abcdef0, found "sg-1234abcd"`),
		bad("i-0123456789abcdefg", `expected an EC2 instance id such as i-0123456789abcdef0, found "i-0123456789abcdefg"`),
	})
	runCases(t, ParamSpec{Name: "g", Type: TypeSecurityGroupID, Help: "h"}, []typeCase{
		ok("sg-0123456789abcdef0", "sg-0123456789abcdef0"), ok("sg-1234abcd", "sg-1234abcd"),
		bad("sg-", `expected a security group id such as sg-0123456789abcdef0, found "sg-"`),
		bad("default", `expected a security group id such as sg-0123456789abcdef0, found "default"`),
	})
	runCases(t, ParamSpec{Name: "t", Type: TypeFISTemplateID, Help: "h"}, []typeCase{
		ok("EXT1a2b3c4d5e6f7", "EXT1a2b3c4d5e6f7"),
		bad("ext1a2b3c4d5e6f7", `expected an FIS experiment template id such as EXT1a2b3c4d5e6f7, found "ext1a2b3c4d5e6f7"`),
		bad("EXT", `expected an FIS experiment template id such as EXT1a2b3c4d5e6f7, found "EXT"`),
		bad("EXT-1234", `expected an FIS experiment template id such as EXT1a2b3c4d5e6f7, found "EXT-1234"`),
	})
	const want = `expected an ARN such as arn:aws:iam::123456789012:role/chaos, found `
	runCases(t, ParamSpec{Name: "a", Type: TypeARN, Help: "h"}, []typeCase{
		ok("arn:aws:iam::123456789012:role/chaos", "arn:aws:iam::123456789012:role/chaos"),
		ok("arn:aws:lambda:us-east-1:123456789012:function:checkout:live", "arn:aws:lambda:us-east-1:123456789012:function:checkout:live"),
		ok("arn:aws-cn:s3:::bucket/key", "arn:aws-cn:s3:::bucket/key"),
		ok("arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
		bad("arn:aws:iam::12345:role/x", want+`"arn:aws:iam::12345:role/x"`),
		bad("arn:evil:iam::123456789012:role/x", want+`"arn:evil:iam::123456789012:role/x"`),
		bad("arn:aws:iam::123456789012:", want+`"arn:aws:iam::123456789012:"`),
		bad("arn:aws:IAM::123456789012:role/x", want+`"arn:aws:IAM::123456789012:role/x"`),
	})
}

func TestTemplate(t *testing.T) {
	const want = `expected a command template (printable text; tabs and newlines allowed; no control, bidi or zero-width characters), found `
	runCases(t, ParamSpec{Name: "inject", Type: TypeTemplate, Help: "h"}, []typeCase{
		// Templates are the runbook author's own shell: metacharacters are the point.
		ok("systemctl stop nginx; sleep 1", "systemctl stop nginx; sleep 1"),
		ok("if true; then\n\techo \"café\"\nfi", "if true; then\n\techo \"café\"\nfi"),
		bad("", want+`"" (empty)`),
		bad(" \n", want+`" \n" (empty)`),
		bad("echo ok\x00", want+`"echo ok\x00" (U+0000 is not allowed)`),
		bad("echo \x1b[31mred", want+`"echo \x1b[31mred" (U+001B is not allowed)`),
		bad("rm -rf /tmp/x \u202e#", want+`"rm -rf /tmp/x \u202e#" (U+202E is not allowed)`),
		bad("echo a\u200bb", want+`"echo a\u200bb" (U+200B is not allowed)`),
		bad("echo\r\nok", want+`"echo\r\nok" (U+000D is not allowed)`),
		bad("\xff", want+`"\xff" (not UTF-8)`),
	})
}

// hostile values a runbook might carry by accident or by intent; no type but
// template may accept any of them.
var hostile = []string{
	"; rm -rf /", "$(id)", "`id`", "eth0\nid", "eth0\r", "'eth0'", `"eth0"`, "--help", "--option=1", "-eth0",
	"eth0\x00", "еth0", "eth0\u202e", "eth0\u200b", "\ufeffeth0", "ｅｔｈ０", "eth0\u00a0", " eth0", "eth0 ", "\teth0",
	"a|b", "a&&b", "a>b", "a<b", "${IFS}", "$HOME", "a\\b", "*", "?", "#", "!!", "\x1b[31m", "KILL; reboot",
	"10.0.0.1/32 -j ACCEPT", "/tmp/$(id)", "/tmp/`id`", "/tmp/a b", "/etc/../root", "/tmp/x\nrm", "80;id",
	"80%;id", "1s;id", "/tmp/\u202e", "nginx.service;id", "api.example.com;id", "i-1234abcd;id", "arn:aws:iam::123456789012:role/$(id)",
	"Launch,Terminate;id", "-5m", "%0a", "",
}

func TestHostileValuesRejected(t *testing.T) {
	if len(hostile) < 30 {
		t.Fatalf("only %d hostile values", len(hostile))
	}
	for _, typ := range Types() {
		if typ == TypeTemplate {
			continue
		}
		spec := ParamSpec{Name: "x", Type: typ, Help: "h"}
		switch typ {
		case TypeEnum:
			spec.Enum = []string{"tcp", "udp", "all"}
		case TypeList:
			spec.Elem, spec.Enum = TypeEnum, []string{"Launch", "Terminate"}
		case TypeBytes, TypeInt:
			spec.PercentOf = "something"
		case TypeOffset:
			spec.Min = "1s" // "-5m" is a fine offset; bounded here, it is not
		}
		for _, h := range hostile {
			canon, err := spec.Check(h)
			if err == nil {
				t.Errorf("%s accepted %q as %q", typ, h, canon)
				continue
			}
			// The message itself must be safe to print on a terminal.
			for _, r := range err.Error() {
				if r < ' ' || r > '~' {
					t.Errorf("%s %q: message carries %U: %q", typ, h, r, err)
					break
				}
			}
		}
	}
}

func TestTemplateRejectsHiddenCharacters(t *testing.T) {
	spec := ParamSpec{Name: "inject", Type: TypeTemplate, Help: "h"}
	for _, h := range []string{"eth0\x00", "eth0\u202e", "eth0\u200b", "\ufeffx", "\x1b[31m", "a\u2028b", "a\u2066b", "a\rb", "a\x7fb", "a\u0085b"} {
		if _, err := spec.Check(h); err == nil {
			t.Errorf("template accepted %q", h)
		}
	}
}

func TestValuesAccessors(t *testing.T) {
	k := &Kind{Name: "t", Family: FamilySSH, Summary: "s", MaxDuration: time.Hour, Params: []ParamSpec{
		{Name: "d", Type: TypeDuration, Help: "h"},
		{Name: "n", Type: TypeInt, Help: "h"},
		{Name: "f", Type: TypeFloat, Help: "h"},
		{Name: "p", Type: TypePercent, Help: "h"},
		{Name: "s", Type: TypeShare, Help: "h"},
		{Name: "b", Type: TypeBytes, PercentOf: "memory", Help: "h"},
		{Name: "bp", Type: TypeBytes, PercentOf: "memory", Help: "h"},
		{Name: "ok", Type: TypeBool, Help: "h"},
		{Name: "l", Type: TypeList, Elem: TypePort, Help: "h"},
		{Name: "port", Type: TypePort, Default: "8080", Help: "h"},
	}}
	if err := k.validate(); err != nil {
		t.Fatal(err)
	}
	v, probs := k.Parse(map[string]string{"d": "90s", "n": "7", "f": "2.5", "p": "80", "s": "0.25", "b": "1GiB", "bp": "40%", "ok": "yes", "l": "80,443"})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if v.Duration("d") != 90*time.Second || v.Int("n") != 7 || v.Float("f") != 2.5 || v.Int("port") != 8080 {
		t.Errorf("duration/int/float: %v %v %v %v", v.Duration("d"), v.Int("n"), v.Float("f"), v.Int("port"))
	}
	if p, ok := v.Percent("p"); !ok || p != 80 || v.Ratio("s") != 0.25 {
		t.Errorf("percent %v %v, ratio %v", p, ok, v.Ratio("s"))
	}
	if v.Bytes("b") != 1<<30 || v.Bytes("bp") != 0 {
		t.Errorf("bytes %d %d", v.Bytes("b"), v.Bytes("bp"))
	}
	if p, ok := v.Percent("bp"); !ok || p != 40 {
		t.Errorf("bytes as percent: %v %v", p, ok)
	}
	if _, ok := v.Percent("b"); ok {
		t.Error("absolute bytes reported as a percentage")
	}
	if !v.Bool("ok") || strings.Join(v.Strings("l"), " ") != "80 443" {
		t.Errorf("bool %v list %v", v.Bool("ok"), v.Strings("l"))
	}
	want := map[string]string{"d": "1m30s", "n": "7", "f": "2.5", "p": "80%", "s": "25%", "b": "1GiB", "bp": "40%", "ok": "true", "l": "80,443", "port": "8080"}
	got := v.Canonical()
	if len(got) != len(want) {
		t.Errorf("Canonical() = %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("Canonical()[%s] = %q, want %q", k, got[k], w)
		}
	}
	if v.Has("nope") || v.String("nope") != "" || v.Duration("n") != 0 || v.Kind() != "t" {
		t.Error("absent or mistyped params should read as zero values")
	}
}

// FuzzCheck: no type panics, no type but template accepts anything outside
// printable ASCII, and a canonical value is its own canonical form, so a
// journal replayed through the parser means the same thing.
func FuzzCheck(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	for _, s := range []string{"200ms", "-5m", "80%", "0.1", "1.5GiB", "10.0.0.5/24", "SIGKILL", "nginx", "a.b", "/var//log/", "Launch, Terminate", "i-1234abcd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, typ := range Types() {
			spec := ParamSpec{Name: "x", Type: typ, Enum: []string{"Launch", "Terminate"}, Help: "h"}
			switch typ {
			case TypeList:
				spec.Elem = TypeEnum
			case TypeBytes, TypeInt:
				spec.PercentOf = "something"
			case TypeEnum:
			default:
				spec.Enum = nil
			}
			canon, err := spec.Check(raw)
			if err != nil {
				continue
			}
			if typ != TypeTemplate && !plainASCII(strings.ReplaceAll(raw, ", ", ",")) {
				t.Fatalf("%s accepted non-ASCII or spaced %q", typ, raw)
			}
			again, err := spec.Check(canon)
			if err != nil || again != canon {
				t.Fatalf("%s: %q -> %q -> %q, %v", typ, raw, canon, again, err)
			}
		}
	})
}
