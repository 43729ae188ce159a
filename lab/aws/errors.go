package aws

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
)

// apiError is an AWS error before it is put in its protocol's shape.
type apiError struct {
	status int
	code   string
	msg    string
	server bool // Type Receiver rather than Sender in the query shape
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errInvalidParameter(msg string) *apiError {
	return &apiError{status: 400, code: "InvalidParameterValue", msg: msg}
}

// fail writes e in the shape c.service's SDK decodes.
func (s *Server) fail(w http.ResponseWriter, c *call, e *apiError) {
	switch c.service {
	case "ec2":
		type errXML struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}
		body := struct {
			XMLName   xml.Name `xml:"Response"`
			Errors    []errXML `xml:"Errors>Error"`
			RequestID string   `xml:"RequestID"`
		}{Errors: []errXML{{e.code, e.msg}}, RequestID: c.reqID}
		writeXML(w, e.status, body)
	case "sts", "rds", "autoscaling", "query":
		typ := "Sender"
		if e.server {
			typ = "Receiver"
		}
		body := struct {
			XMLName   xml.Name `xml:"ErrorResponse"`
			NS        string   `xml:"xmlns,attr"`
			Type      string   `xml:"Error>Type"`
			Code      string   `xml:"Error>Code"`
			Message   string   `xml:"Error>Message"`
			RequestID string   `xml:"RequestId"`
		}{NS: services[c.service].ns, Type: typ, Code: e.code, Message: e.msg, RequestID: c.reqID}
		writeXML(w, e.status, body)
	case "ssm", "ecs", "dynamodb", "json":
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		writeJSON(w, e.status, jsonContentType(c.service), map[string]string{"__type": errorType(c.service, e.code), "message": e.msg})
	case "lambda":
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		w.Header().Set("X-Amzn-ErrorType", e.code)
		typ := "User"
		if e.server {
			typ = "Service"
		}
		writeJSON(w, e.status, "application/json", map[string]string{"Type": typ, "message": e.msg})
	default: // fis and any other REST-JSON service
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		w.Header().Set("X-Amzn-ErrorType", e.code)
		writeJSON(w, e.status, "application/json", map[string]string{"message": e.msg})
	}
}

// serveJSON admits a JSON or REST-JSON call and writes its answer; a nil
// answer is 204 No Content.
func (s *Server) serveJSON(w http.ResponseWriter, c *call, action, contentType string, h func(*call) (any, *apiError)) {
	if aerr := s.admit(c, action); aerr != nil {
		s.fail(w, c, aerr)
		return
	}
	out, aerr := h(c)
	if aerr != nil {
		s.fail(w, c, aerr)
		return
	}
	w.Header().Set("X-Amzn-RequestId", c.reqID)
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, contentType, out)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(out)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	out, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}
