package aws

import (
	"encoding/xml"
	"net/url"
)

const stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"

func (s *Server) sts(c *call, action string, _ url.Values) (any, *apiError) {
	if action != "GetCallerIdentity" {
		return nil, &apiError{status: 400, code: "InvalidAction", msg: "Could not find operation " + action + " for version 2011-06-15"}
	}
	type result struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	return struct {
		XMLName   xml.Name `xml:"GetCallerIdentityResponse"`
		NS        string   `xml:"xmlns,attr"`
		Result    result   `xml:"GetCallerIdentityResult"`
		RequestID string   `xml:"ResponseMetadata>RequestId"`
	}{NS: stsNS, Result: result{Arn: c.key.ARN, UserID: "AIDA" + c.key.AccessKeyID, Account: c.key.Account}, RequestID: c.reqID}, nil
}
