package serve

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// gate is a terminal that accepts nothing until opened.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	got  bytes.Buffer
}

func (g *gate) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.got.Write(p)
}

func TestSlowTerminalNeverBlocksTheWriter(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	f := NewFrameWriter(g, 100)
	repaint := make(chan struct{}, 1)
	f.OnDrop(func() { repaint <- struct{}{} })

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ { // 10 kB into a 100-byte queue, terminal stuck
			f.Write([]byte("frame-0123"))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a stuck terminal")
	}
	if f.Drops() == 0 {
		t.Fatal("10 kB fit in a 100-byte queue without a drop")
	}
	close(g.open)
	select {
	case <-repaint:
	case <-time.After(5 * time.Second):
		t.Fatal("no repaint was asked for after frames were dropped")
	}
	f.Write([]byte("last"))
	f.Close()
	g.mu.Lock()
	defer g.mu.Unlock()
	if !bytes.HasSuffix(g.got.Bytes(), []byte("last")) || g.got.Len() > 2*100+len("last") {
		t.Errorf("terminal got %d bytes ending %q; want at most the write in flight and a queue's worth, ending with the last write", g.got.Len(), g.got.Bytes()[max(0, g.got.Len()-10):])
	}
	if _, err := f.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
}
