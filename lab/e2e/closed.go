package e2e

import (
	"net"
	"testing"
	"time"
)

// Closed fails t for each of addrs that still accepts a TCP connection;
// after names what should have closed them all.
func Closed(t testing.TB, after string, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listening after %s", a, after)
		}
	}
}
