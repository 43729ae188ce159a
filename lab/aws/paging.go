package aws

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// paging is how one service's list calls take a page size and a token: the
// default size, the sizes allowed, and the error codes and messages the
// service answers a bad size (sizeMsg formats the size as written) or a bad
// token with. Every service answers both with status 400.
type paging struct {
	def, min, max       int
	sizeCode, sizeMsg   string
	tokenCode, tokenMsg string
}

// read parses a page size ("" when the request gives none) and a token.
func (p paging) read(size, token string) (n, offset int, aerr *apiError) {
	n = p.def
	if size != "" {
		v, err := strconv.Atoi(size)
		if err != nil || v < p.min || v > p.max {
			return 0, 0, &apiError{status: 400, code: p.sizeCode, msg: fmt.Sprintf(p.sizeMsg, size)}
		}
		n = v
	}
	offset, ok := parsePageToken(token)
	if !ok {
		return 0, 0, &apiError{status: 400, code: p.tokenCode, msg: p.tokenMsg}
	}
	return n, offset, nil
}

// optInt writes a JSON request's optional number as a form would carry it.
func optInt(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}

// pageToken encodes an offset into a list for NextToken.
func pageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func parsePageToken(tok string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	rest, ok := strings.CutPrefix(string(raw), "offset:")
	n, aerr := strconv.Atoi(rest)
	return n, err == nil && ok && aerr == nil && n >= 0
}

// pageOf answers a list call: the page of items from offset, under
// listKey, and the token for the next page under tokenKey.
func pageOf[T any](items []T, offset, size int, listKey, tokenKey string, item func(T) map[string]any) map[string]any {
	from, to, next := page(len(items), offset, size)
	list := make([]map[string]any, 0, to-from)
	for _, it := range items[from:to] {
		list = append(list, item(it))
	}
	out := map[string]any{listKey: list}
	if next != "" {
		out[tokenKey] = next
	}
	return out
}

// page slices n items from offset and returns the next token, if any.
func page(total, offset, size int) (from, to int, next string) {
	from = min(offset, total)
	to = min(from+size, total)
	if to < total {
		next = pageToken(to)
	}
	return from, to, next
}
