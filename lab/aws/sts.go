package aws

import (
	"encoding/xml"
	"net/url"
)

// stsAPI is the STS actions served.
func (s *Server) stsAPI() queryAPI {
	return queryAPI{unknown: "Could not find operation %s for version 2011-06-15", actions: map[string]queryHandler{
		"GetCallerIdentity": s.getCallerIdentity,
	}}
}

func (s *Server) getCallerIdentity(c *call, action string, _ url.Values) (any, *apiError) {
	return queryAnswer(c, action, struct {
		XMLName xml.Name
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}{resultName(action), c.key.ARN, "AIDA" + c.key.AccessKeyID, c.key.Account}), nil
}
