package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// BenchmarkFleet resolves 5,000 instances by tag through the SDK paginator
// and stops 500 of them (a 10% blast radius), through the real SDK and the
// endpoint's SigV4 check, as targets/aws does at scale.
func BenchmarkFleet(b *testing.B) {
	s := startServer(b, Options{})
	seedFleet(b, s, 5000, func(i int) map[string]string {
		return map[string]string{"service": "checkout", "shard": []string{"a", "b"}[i%2]}
	})
	c := ec2.NewFromConfig(sdkConfig(b, s, testKey, testSecret))
	ctx := context.Background()
	byTag := &ec2.DescribeInstancesInput{
		MaxResults: sdkaws.Int32(1000),
		Filters: []ec2types.Filter{
			{Name: sdkaws.String("tag:service"), Values: []string{"checkout"}},
			{Name: sdkaws.String("instance-state-name"), Values: []string{"running"}},
		},
	}
	resolve := func(b *testing.B) []string { return pagedIDs(b, c, byTag) }
	restore := func(b *testing.B, ids []string) {
		for _, id := range ids {
			if err := s.SetInstanceState(id, StateRunning); err != nil {
				b.Fatal(err)
			}
		}
	}

	b.Run("describe-5000-by-tag", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ids := resolve(b); len(ids) != 5000 {
				b.Fatalf("resolved %d, want 5000", len(ids))
			}
		}
	})
	b.Run("stop-500", func(b *testing.B) {
		victims := resolve(b)[:500]
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for lo := 0; lo < len(victims); lo += 100 {
				if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: victims[lo : lo+100]}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			restore(b, victims)
			b.StartTimer()
		}
	})
	b.Run("resolve-5000-and-stop-500", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ids := resolve(b)
			if len(ids) != 5000 {
				b.Fatalf("resolved %d, want 5000", len(ids))
			}
			for lo := 0; lo < 500; lo += 100 {
				if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids[lo : lo+100]}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			restore(b, ids[:500])
			b.StartTimer()
		}
	})
}

// BenchmarkEndpointDescribePage measures the endpoint alone: one signed
// DescribeInstances page of 1,000 of 5,000 instances by tag, verified,
// filtered and encoded, without the SDK's decoding on the other side.
func BenchmarkEndpointDescribePage(b *testing.B) {
	s := startServer(b, Options{})
	seedFleet(b, s, 5000, func(int) map[string]string { return map[string]string{"service": "checkout"} })
	body := "Action=DescribeInstances&Version=2016-11-15&MaxResults=1000&Filter.1.Name=tag%3Aservice&Filter.1.Value.1=checkout"
	req := httptest.NewRequest(http.MethodPost, s.URL()+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", form)
	sum := sha256.Sum256([]byte(body))
	creds := sdkaws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ec2", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req.Body = io.NopCloser(strings.NewReader(body))
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
	}
}
