package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// rawRequest is a request built by hand, to reach the endpoint in ways the
// SDK never would.
type rawRequest struct {
	method, path, body, service string
	header                      map[string]string
	signedAt                    time.Time
	// tamper changes the request after it was signed.
	tamper func(*http.Request)
	// unsigned sends no Authorization header at all.
	unsigned bool
}

type rawResponse struct {
	status int
	body   string
	code   string // error code, whatever the shape
}

func send(t *testing.T, s *Server, rr rawRequest) rawResponse {
	t.Helper()
	if rr.method == "" {
		rr.method = http.MethodPost
	}
	if rr.path == "" {
		rr.path = "/"
	}
	if rr.signedAt.IsZero() {
		rr.signedAt = time.Now()
	}
	req, err := http.NewRequest(rr.method, s.URL()+rr.path, strings.NewReader(rr.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range rr.header {
		req.Header.Set(k, v)
	}
	if !rr.unsigned {
		sum := sha256.Sum256([]byte(rr.body))
		creds := sdkaws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), rr.service, "us-east-1", rr.signedAt); err != nil {
			t.Fatal(err)
		}
	}
	if rr.tamper != nil {
		rr.tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := rawResponse{status: resp.StatusCode, body: string(b), code: resp.Header.Get("X-Amzn-ErrorType")}
	var ec2Err struct {
		Code string `xml:"Errors>Error>Code"`
	}
	var queryErr struct {
		Code string `xml:"Error>Code"`
	}
	var jsonErr struct {
		Type string `json:"__type"`
	}
	switch {
	case out.code != "":
	case strings.Contains(out.body, "<Response>") && xml.Unmarshal(b, &ec2Err) == nil:
		out.code = ec2Err.Code
	case strings.Contains(out.body, "<ErrorResponse") && xml.Unmarshal(b, &queryErr) == nil:
		out.code = queryErr.Code
	case json.Unmarshal(b, &jsonErr) == nil:
		out.code = jsonErr.Type
	}
	return out
}

const form = "application/x-www-form-urlencoded; charset=utf-8"

func TestWireRejections(t *testing.T) {
	s := startServer(t, Options{})
	seedFleet(t, s, 1, func(int) map[string]string { return nil })
	describe := "Action=DescribeInstances&Version=2016-11-15"
	ssmJSON := map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.ListCommands"}
	cases := []struct {
		name   string
		req    rawRequest
		status int
		code   string
	}{
		{"signed ec2 call", rawRequest{service: "ec2", body: describe, header: map[string]string{"Content-Type": form}}, 200, ""},
		{"unsigned ec2", rawRequest{unsigned: true, body: describe, header: map[string]string{"Content-Type": form}}, 403, "MissingAuthenticationToken"},
		{"unsigned ssm", rawRequest{unsigned: true, body: "{}", header: ssmJSON}, 403, "MissingAuthenticationTokenException"},
		{"garbage authorization", rawRequest{service: "ec2", body: describe, tamper: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 nonsense") }}, 400, "IncompleteSignature"},
		{"body changed after signing", rawRequest{service: "ec2", body: describe, tamper: func(r *http.Request) {
			other := "Action=TerminateInstances&Version=2016-11-15&InstanceId.1=" + InstanceID(1)
			r.Body = io.NopCloser(strings.NewReader(other))
			r.ContentLength = int64(len(other))
			r.Header.Del("Content-Length")
		}}, 403, "SignatureDoesNotMatch"},
		{"signed header changed", rawRequest{service: "ssm", body: "{}", header: ssmJSON, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Target", "AmazonSSM.CancelCommand") }}, 403, "SignatureDoesNotMatch"},
		{"query changed after signing", rawRequest{service: "fis", method: http.MethodGet, path: "/experiments?maxResults=5", tamper: func(r *http.Request) { r.URL.RawQuery = "maxResults=6" }}, 403, "SignatureDoesNotMatch"},
		{"signed an hour ago", rawRequest{service: "ec2", body: describe, signedAt: time.Now().Add(-time.Hour)}, 403, "SignatureDoesNotMatch"},
		{"unknown service", rawRequest{service: "kinesis", body: "{}", header: map[string]string{"X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1"}}, 404, "UnknownOperationException"},
		{"unknown ec2 action", rawRequest{service: "ec2", body: "Action=RunInstances&Version=2016-11-15"}, 400, "InvalidAction"},
		{"query without action", rawRequest{service: "sts", body: "Version=2011-06-15"}, 400, "MissingAction"},
		{"ssm bad json", rawRequest{service: "ssm", body: "{not json", header: ssmJSON}, 400, "SerializationException"},
		{"ssm no target", rawRequest{service: "ssm", body: "{}", header: map[string]string{"Content-Type": "application/x-amz-json-1.1"}}, 400, "UnknownOperationException"},
		{"lambda bad json", rawRequest{service: "lambda", method: http.MethodPut, path: "/2017-10-31/functions/x/concurrency", body: "[1,2"}, 400, "SerializationException"},
		{"lambda unknown path", rawRequest{service: "lambda", method: http.MethodGet, path: "/2015-03-31/layers"}, 404, "UnknownOperationException"},
		{"fis unknown path", rawRequest{service: "fis", method: http.MethodPatch, path: "/experiments/EXP1"}, 404, "UnknownOperationException"},
		{"ec2 bad filter index", rawRequest{service: "ec2", body: describe + "&Filter.x.Name=tag%3Aa&Filter.1.Value.1=b"}, 400, "InvalidParameterValue"},
		{"ec2 bad dry run", rawRequest{service: "ec2", body: "Action=StopInstances&Version=2016-11-15&InstanceId.1=" + InstanceID(1) + "&DryRun=maybe"}, 400, "InvalidParameterValue"},
		{"ec2 bad next token", rawRequest{service: "ec2", body: describe + "&MaxResults=5&NextToken=%25%25"}, 400, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		got := send(t, s, tc.req)
		if got.status != tc.status || got.code != tc.code {
			t.Errorf("%s: HTTP %d %q, want %d %q\n%s", tc.name, got.status, got.code, tc.status, tc.code, got.body)
		}
	}
	if got, _ := s.Instance(InstanceID(1)); got.State != StateRunning {
		t.Errorf("a rejected request changed the instance to %s", got.State)
	}
}

// FuzzRequest sends signed requests with arbitrary bodies, paths and
// targets: whatever arrives, the endpoint answers in a protocol's error
// shape and never with a 500.
func FuzzRequest(f *testing.F) {
	f.Add("ec2", "POST", "/", "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag:&Filter.1.Value.9=", "")
	f.Add("ec2", "POST", "/", "Action=StopInstances&InstanceId.0=i-&InstanceId.-1=x&Force=1", "")
	f.Add("ec2", "POST", "/", "Action=CreateTags&ResourceId.1=i-1&Tag.1.Value=v", "")
	f.Add("sts", "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", "")
	f.Add("ssm", "POST", "/", `{"DocumentName":"AWS-RunShellScript","Targets":[{"Key":"tag:","Values":[]}],"Parameters":{"commands":["x"]}}`, "AmazonSSM.SendCommand")
	f.Add("ssm", "POST", "/", `{"InstanceIds":null,"MaxConcurrency":"101%"}`, "AmazonSSM.SendCommand")
	f.Add("ssm", "POST", "/", `{"CommandId":"x","MaxResults":0}`, "AmazonSSM.ListCommandInvocations")
	f.Add("fis", "POST", "/experiments", `{"experimentTemplateId":null}`, "")
	f.Add("fis", "GET", "/experiments?maxResults=-1&nextToken=!!", "", "")
	f.Add("lambda", "PUT", "/2015-03-31/functions/arn:aws:lambda:x/configuration", `{"Environment":{}}`, "")
	f.Add("lambda", "GET", "/2017-03-31/tags/arn:aws:lambda:us-east-1:1:function:", "", "")
	f.Add("lambda", "GET", "/2015-03-31/functions?MaxItems=0&Marker=zz", "", "")
	f.Add("ecs", "POST", "/", `{"cluster":"arn:aws:ecs:x:y:cluster/","tasks":[""],"include":["TAGS"]}`, "AmazonEC2ContainerServiceV20141113.DescribeTasks")
	f.Add("ecs", "POST", "/", `{"cluster":"c","task":null}`, "AmazonEC2ContainerServiceV20141113.StopTask")
	f.Add("rds", "POST", "/", "Action=FailoverDBCluster&Version=2014-10-31&DBClusterIdentifier=arn:", "")
	f.Add("rds", "POST", "/", "Action=DescribeDBInstances&Version=2014-10-31&Filters.Filter.1.Name=engine&MaxRecords=19", "")
	f.Add("autoscaling", "POST", "/", "Action=SuspendProcesses&Version=2011-01-01&ScalingProcesses.member.1=", "")
	f.Add("ec2", "POST", "/", "Action=RevokeSecurityGroupIngress&GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=x", "")
	f.Add("dynamodb", "POST", "/", `{"TableName":"t","GlobalSecondaryIndexUpdates":[{"Update":null}]}`, "DynamoDB_20120810.UpdateTable")
	f.Add("dynamodb", "POST", "/", `{"Limit":0,"ExclusiveStartTableName":"\u0000"}`, "DynamoDB_20120810.ListTables")
	f.Fuzz(func(t *testing.T, service, method, path, body, target string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n#") || len(path) > 512 ||
			!map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "PATCH": true}[method] ||
			!printable(service) || strings.ContainsAny(service, "/ ") || !printable(target) {
			t.Skip()
		}
		if _, err := http.NewRequest(method, "http://127.0.0.1"+path, nil); err != nil {
			t.Skip()
		}
		s := startServer(t, Options{})
		seedFleet(t, s, 2, func(int) map[string]string { return map[string]string{"a": "b"} })
		if err := s.AddFunction(Function{Name: "f"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddTask(Task{Cluster: "c", Service: "svc"}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddSecurityGroup(SecurityGroup{ID: "sg-1", Rules: []Rule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "10.0.0.0/8"}}}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddDBCluster(DBCluster{ID: "db"}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddDBInstance(DBInstance{ID: "db-1", Cluster: "db"}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddTable(Table{Name: "t", Indexes: []TableIndex{{Name: "i", Read: 1, Write: 1}}}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddAutoScalingGroup(AutoScalingGroup{Name: "g", Instances: []string{InstanceID(1)}}); err != nil {
			t.Fatal(err)
		}
		hdr := map[string]string{}
		if target != "" {
			hdr["X-Amz-Target"] = target
		}
		got := send(t, s, rawRequest{service: service, method: method, path: path, body: body, header: hdr})
		if got.status >= 500 && got.code != "RequestLimitExceeded" {
			t.Errorf("HTTP %d for %s %s %s %q: %s", got.status, service, method, path, body, got.body)
		}
		if got.status >= 300 && got.code == "" {
			t.Errorf("HTTP %d without an error code for %s %s %s %q: %s", got.status, service, method, path, body, got.body)
		}
	})
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r >= 0x7f {
			return false
		}
	}
	return true
}
