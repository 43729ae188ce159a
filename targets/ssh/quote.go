package ssh

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Quote returns s as exactly one word for a POSIX shell. Words made only of
// characters no shell treats specially are returned as they are, so commands
// stay readable in --dry-run output; everything else is wrapped in single
// quotes, inside which sh interprets nothing, with each embedded single
// quote written as '\” (close, escaped quote, reopen).
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if isPlainWord(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isPlainWord reports whether s needs no quoting. The set is deliberately
// small: letters, digits and a few punctuation marks that are literal in every
// position in sh (a leading '-' is still a literal word; option injection is
// handled by callers with "--" and by typed params, not by quoting).
func isPlainWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == '/' || c == ',' || c == ':' || c == '@' || c == '+' || c == '%':
		default:
			return false
		}
	}
	return true
}

// checkArg rejects what no quoting can carry to a program intact: a NUL
// byte ends a C string, so the program would see a shorter value than the
// runbook asked for.
func checkArg(name, v string) error {
	if strings.IndexByte(v, 0) >= 0 {
		return fmt.Errorf("param %s contains a NUL byte, which cannot be passed as an argument", name)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("param %s is not valid UTF-8", name)
	}
	return nil
}
