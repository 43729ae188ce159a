package aws

import (
	"encoding/xml"
	"net/url"
)

func (s *Server) sts(c *call, action string, _ url.Values) (any, *apiError) {
	if action != "GetCallerIdentity" {
		return nil, &apiError{status: 400, code: "InvalidAction", msg: "Could not find operation " + action + " for version 2011-06-15"}
	}
	return queryAnswer(c, action, struct {
		XMLName xml.Name
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}{resultName(action), c.key.ARN, "AIDA" + c.key.AccessKeyID, c.key.Account}), nil
}
