package aws

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
)

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDate      = "20060102T150405Z"
	// maxSkew is how far a request's X-Amz-Date may be from the server clock,
	// as AWS allows.
	maxSkew = 15 * time.Minute
)

// authenticate verifies the SigV4 signature of c.r and fills c.service,
// c.region and c.key from its credential scope. Each step answers with the
// error AWS gives for what it finds wrong.
func (s *Server) authenticate(c *call) *apiError {
	auth := c.r.Header.Get("Authorization")
	if auth == "" {
		return &apiError{status: 403, code: missingAuth(guessService(c.r, c.body)), msg: "Request is missing Authentication Token"}
	}
	fields, scope, bad := parseAuthorization(c, auth)
	if bad != nil {
		return bad
	}
	if err := s.checkKey(c, scope[0]); err != nil {
		return err
	}
	when, err := s.checkDate(c.r, scope[1])
	if err != nil {
		return err
	}
	return s.checkSignature(c, fields, scope, when)
}

// parseAuthorization reads the Authorization header's fields and its
// credential scope (key/date/region/service/aws4_request).
func parseAuthorization(c *call, auth string) (map[string]string, []string, *apiError) {
	alg, rest, _ := strings.Cut(auth, " ")
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = v
		}
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) == 5 {
		c.service, c.region = scope[3], scope[2]
	}
	if alg != sigAlgorithm || len(scope) != 5 || scope[4] != "aws4_request" || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return nil, nil, &apiError{status: 400, code: "IncompleteSignature", msg: fmt.Sprintf("Authorization header requires %s with Credential=AKID/date/region/service/aws4_request, SignedHeaders and Signature", sigAlgorithm)}
	}
	return fields, scope, nil
}

// checkKey finds the access key and checks its session token and expiry.
func (s *Server) checkKey(c *call, id string) *apiError {
	key, ok := s.keys[id]
	if !ok {
		return unknownKey(c.service)
	}
	c.key = key
	if key.SessionToken != "" && c.r.Header.Get("X-Amz-Security-Token") != key.SessionToken {
		return unknownKey(c.service)
	}
	if !key.Expires.IsZero() && !s.opts.Now().Before(key.Expires) {
		return expiredToken(c.service)
	}
	return nil
}

// checkDate reads X-Amz-Date and checks it against the clock and the
// credential scope's date.
func (s *Server) checkDate(r *http.Request, scopeDate string) (time.Time, *apiError) {
	when, err := time.Parse(amzDate, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return when, &apiError{status: 400, code: "IncompleteSignature", msg: "X-Amz-Date header missing or not in the form 20060102T150405Z"}
	}
	if now := s.opts.Now(); when.Before(now.Add(-maxSkew)) || when.After(now.Add(maxSkew)) {
		return when, &apiError{status: 403, code: "SignatureDoesNotMatch", msg: fmt.Sprintf("Signature expired: %s is now earlier than %s or later than %s", when.Format(amzDate), now.Add(-maxSkew).UTC().Format(amzDate), now.Add(maxSkew).UTC().Format(amzDate))}
	}
	if scopeDate != when.Format("20060102") {
		return when, &apiError{status: 403, code: "SignatureDoesNotMatch", msg: fmt.Sprintf("Credential should be scoped to a valid date: %s does not match X-Amz-Date %s", scopeDate, when.Format(amzDate))}
	}
	return when, nil
}

// checkSignature rebuilds the request with only the headers the client
// signed, lets the SDK's signer compute what the signature must be, and
// compares.
func (s *Server) checkSignature(c *call, fields map[string]string, scope []string, when time.Time) *apiError {
	r := c.r
	sum := sha256.Sum256(c.body)
	payloadHash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != "UNSIGNED-PAYLOAD" && h != payloadHash {
		return &apiError{status: 400, code: "XAmzContentSHA256Mismatch", msg: "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	u := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	req := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: http.Header{}}
	for _, name := range strings.Split(fields["SignedHeaders"], ";") {
		switch name {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(c.body))
		default:
			req.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	creds := sdkaws.Credentials{AccessKeyID: c.key.AccessKeyID, SecretAccessKey: c.key.SecretAccessKey}
	if err := s.signer.SignHTTP(r.Context(), creds, req, payloadHash, scope[3], scope[2], when); err != nil {
		return &apiError{status: 400, code: "IncompleteSignature", msg: err.Error()}
	}
	want := signatureOf(req.Header.Get("Authorization"))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return &apiError{status: 403, code: "SignatureDoesNotMatch", msg: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return nil
}

func signatureOf(auth string) string {
	_, sig, _ := strings.Cut(auth, "Signature=")
	return sig
}
