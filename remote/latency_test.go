package remote

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// latencyProxy forwards TCP connections from a loopback port to target,
// delaying every chunk by oneWay in each direction (order kept): a link
// with a round trip of 2*oneWay, for benchmarks that count round trips.
// It stops at the end of the test.
func latencyProxy(tb testing.TB, target string, oneWay time.Duration) (port int) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	tb.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); delayedCopy(out, in, oneWay) }()
			go func() { defer wg.Done(); delayedCopy(in, out, oneWay) }()
		}
	}()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	port, _ = strconv.Atoi(p)
	return port
}

// delayedCopy copies src to dst, each chunk written d after it was read,
// and closes both when src ends.
func delayedCopy(dst, src net.Conn, d time.Duration) {
	type chunk struct {
		at   time.Time
		data []byte
	}
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{time.Now().Add(d), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	_ = dst.Close()
	_ = src.Close()
	for range q { // let the reader finish
	}
}

// TestLatencyProxy: what goes through arrives intact and late.
func TestLatencyProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(c, c) // echo
		_ = c.Close()
	}()
	port := latencyProxy(t, ln.Addr().String(), 20*time.Millisecond)
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q %v", buf, err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("a round trip took %s through a 20 ms each way proxy", d)
	}
}
