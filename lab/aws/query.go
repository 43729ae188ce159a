package aws

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// queryHandler serves one Query-protocol action and returns the response
// document to marshal as XML.
type queryHandler func(c *call, action string, form url.Values) (any, *apiError)

// formOnly is a handler of one action, which needs only the form.
func formOnly(h func(c *call, form url.Values) (any, *apiError)) queryHandler {
	return func(c *call, _ string, form url.Values) (any, *apiError) { return h(c, form) }
}

// queryAPI is one Query-protocol service: the actions it serves, and how it
// words one it does not (a format taking the action's name).
type queryAPI struct {
	actions map[string]queryHandler
	unknown string
}

// queryService serves api's requests.
func (s *Server) queryService(api queryAPI) func(http.ResponseWriter, *call) {
	return func(w http.ResponseWriter, c *call) { s.serveQuery(w, c, api) }
}

func (s *Server) serveQuery(w http.ResponseWriter, c *call, api queryAPI) {
	form, err := url.ParseQuery(string(c.body))
	if err != nil {
		s.fail(w, c, &apiError{status: 400, code: "MalformedQueryString", msg: "request body is not a form: " + err.Error()})
		return
	}
	for k, v := range c.r.URL.Query() {
		form[k] = append(form[k], v...)
	}
	action := form.Get("Action")
	if action == "" {
		s.fail(w, c, &apiError{status: 400, code: "MissingAction", msg: "The request must contain the parameter Action"})
		return
	}
	if aerr := s.admit(c, action); aerr != nil {
		s.fail(w, c, aerr)
		return
	}
	h, ok := api.actions[action]
	if !ok {
		s.fail(w, c, &apiError{status: 400, code: "InvalidAction", msg: fmt.Sprintf(api.unknown, action)})
		return
	}
	out, aerr := h(c, action, form)
	if aerr != nil {
		s.fail(w, c, aerr)
		return
	}
	writeXML(w, http.StatusOK, out)
}

// queryResponse is an AWS query answer: <ActionResponse> holding
// <ActionResult> (the result's XMLName) and the request id.
type queryResponse struct {
	XMLName   xml.Name
	NS        string `xml:"xmlns,attr"`
	Result    any
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

func queryAnswer(c *call, action string, result any) queryResponse {
	return queryResponse{XMLName: xml.Name{Local: action + "Response"}, NS: services[c.service].ns, Result: result, RequestID: c.reqID}
}

// resultName is the element an action's result goes in.
func resultName(action string) xml.Name { return xml.Name{Local: action + "Result"} }

// indexed returns the values of prefix.1, prefix.2, ... in index order.
func indexed(form url.Values, prefix string) []string {
	type kv struct {
		i int
		v string
	}
	var items []kv
	for k, vs := range form {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok || len(vs) == 0 {
			continue
		}
		if i, err := strconv.Atoi(rest); err == nil {
			items = append(items, kv{i, vs[0]})
		}
	}
	sort.Slice(items, func(a, b int) bool { return items[a].i < items[b].i })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// members returns the distinct indexes N used in prefix.N.*, in order.
func members(form url.Values, prefix string) []int {
	seen := map[int]bool{}
	for k := range form {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(n); err == nil {
			seen[i] = true
		}
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

func formBool(form url.Values, name string) (bool, *apiError) {
	switch v := form.Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, errInvalidParameter(fmt.Sprintf("Value (%s) for parameter %s is invalid. Expected true or false.", v, name))
	}
}
