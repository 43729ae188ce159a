package aws

import "net/http"

func (s *Server) serveFIS(w http.ResponseWriter, c *call) {
	s.fail(w, c, &apiError{status: 404, code: "UnknownOperationException", msg: "not served yet"})
}

func (s *Server) serveLambda(w http.ResponseWriter, c *call) {
	s.fail(w, c, &apiError{status: 404, code: "UnknownOperationException", msg: "not served yet"})
}

type function struct{}
type template struct{}
type experiment struct{}
