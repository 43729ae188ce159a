package aws

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// restRoute is one REST-JSON operation: its method and path, where "*"
// stands for the segment naming the resource, which h is given.
type restRoute struct {
	method, path, action string
	h                    func(c *call, name string) (any, *apiError)
}

// match reports whether the route serves method on the path's segments,
// and the resource the path names.
func (r restRoute) match(method string, parts []string) (name string, ok bool) {
	want := strings.Split(r.path, "/")
	if method != r.method || len(want) != len(parts) {
		return "", false
	}
	for i, w := range want {
		switch {
		case w == "*":
			name = parts[i]
		case w != parts[i]:
			return "", false
		}
	}
	return name, true
}

// serveREST serves the first of routes that matches the request, and
// answers any other as an unknown operation.
func (s *Server) serveREST(w http.ResponseWriter, c *call, routes []restRoute) {
	parts := pathParts(c.r)
	for _, r := range routes {
		if name, ok := r.match(c.r.Method, parts); ok {
			s.serveJSON(w, c, r.action, "application/json", func(c *call) (any, *apiError) { return r.h(c, name) })
			return
		}
	}
	s.fail(w, c, &apiError{status: 404, code: "UnknownOperationException", msg: fmt.Sprintf("%s %s is not served by this endpoint", c.r.Method, c.r.URL.Path)})
}

// pathParts splits the request path into unescaped segments.
func pathParts(r *http.Request) []string {
	var out []string
	for _, p := range strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/") {
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
