// A Go target for `make kernel-test`, built with CGO_ENABLED=0 (static, so
// no LD_PRELOAD reaches it): dials and sends with Go's own runtime
// (non-blocking sockets, connect with EINPROGRESS, epoll, signal-based
// preemption), one line per check.
//
//	dial ADDR        a TCP dial: "dial ok" or "dial error: ..."
//	udp ADDR         a UDP datagram to ADDR (unconnected WriteTo)
//	many ADDR N      N goroutines dial ADDR and read its greeting at once
//	                 while others spin (preempted by signals): "many ok N"
//	get URL          one GET with a net/http client (keep-alive transport,
//	                 no proxy): "get BYTES SHA256" of the body, or
//	                 "get error: ..." and exit status 1
//	serve ADDR       (native, for bench/kernel.sh) an HTTP server on ADDR
//	                 answering every request with a 64-byte body; prints
//	                 "serve http://HOST:PORT/" once listening
//	resolve NAME     looks NAME up with Go's own resolver (no libc: it
//	                 reads /etc/resolv.conf and sends the queries itself):
//	                 "resolve ok" or "resolve error: ..."
//	bench URL N      N sequential GETs of URL over one keep-alive
//	                 connection, then N more each on a new connection (one
//	                 socket and connect each): "http-keepalive REQ/S" and
//	                 "http-close REQ/S", or "bench error: ..." and status 1
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// client is a real net/http client: the default transport's pooling and
// keep-alive, without the environment's proxy settings.
func client(keepAlive bool) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DisableKeepAlives = !keepAlive
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// fetch GETs url and reads the whole body, which it returns.
func fetch(c *http.Client, url string) ([]byte, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	return body, nil
}

// rate makes n sequential GETs of url with c: requests per second.
func rate(c *http.Client, url string, n int) (float64, error) {
	if _, err := fetch(c, url); err != nil { // warm up (and the pool)
		return 0, err
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		body, err := fetch(c, url)
		if err != nil {
			return 0, err
		}
		if len(body) != 64 {
			return 0, errors.New("short body")
		}
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

func main() {
	switch {
	case len(os.Args) == 3 && os.Args[1] == "dial":
		c, err := net.DialTimeout("tcp", os.Args[2], 5*time.Second)
		if err != nil {
			fmt.Println("dial error:", err)
			return
		}
		c.Close()
		fmt.Println("dial ok")
	case len(os.Args) == 3 && os.Args[1] == "udp":
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			fmt.Println("udp error:", err)
			return
		}
		addr, _ := net.ResolveUDPAddr("udp", os.Args[2])
		if _, err := pc.WriteTo([]byte("go-udp"), addr); err != nil {
			fmt.Println("udp error:", err)
			return
		}
		fmt.Println("udp ok")
	case len(os.Args) == 4 && os.Args[1] == "many":
		n, _ := strconv.Atoi(os.Args[3])
		var stop atomic.Bool
		for i := 0; i < 2; i++ {
			go func() {
				x := 0
				for !stop.Load() {
					x++
				}
				_ = x
			}()
		}
		var wg sync.WaitGroup
		var good atomic.Int32
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", os.Args[2], 10*time.Second)
				if err != nil {
					fmt.Println("many dial error:", err)
					return
				}
				defer c.Close()
				buf := make([]byte, 5)
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if k, err := c.Read(buf); err == nil && string(buf[:k]) == "hello" {
					good.Add(1)
				}
			}()
		}
		wg.Wait()
		stop.Store(true)
		fmt.Printf("many ok %d\n", good.Load())
	case len(os.Args) == 3 && os.Args[1] == "get":
		body, err := fetch(client(true), os.Args[2])
		if err != nil {
			fmt.Println("get error:", err)
			os.Exit(1)
		}
		fmt.Printf("get %d %x\n", len(body), sha256.Sum256(body))
	case len(os.Args) == 3 && os.Args[1] == "resolve":
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r := &net.Resolver{PreferGo: true}
		if _, err := r.LookupHost(ctx, os.Args[2]); err != nil {
			fmt.Println("resolve error:", err)
			return
		}
		fmt.Println("resolve ok")
	case len(os.Args) == 3 && os.Args[1] == "serve":
		l, err := net.Listen("tcp", os.Args[2])
		if err != nil {
			fmt.Println("serve error:", err)
			os.Exit(1)
		}
		body := []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n")
		fmt.Printf("serve http://%s/\n", l.Addr())
		err = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write(body)
		}))
		fmt.Println("serve error:", err)
		os.Exit(1)
	case len(os.Args) == 4 && os.Args[1] == "bench":
		n, err := strconv.Atoi(os.Args[3])
		if err != nil || n < 1 {
			os.Exit(2)
		}
		keep, err := rate(client(true), os.Args[2], n)
		if err != nil {
			fmt.Println("bench error:", err)
			os.Exit(1)
		}
		fresh, err := rate(client(false), os.Args[2], n)
		if err != nil {
			fmt.Println("bench error:", err)
			os.Exit(1)
		}
		fmt.Printf("http-keepalive %.0f\nhttp-close %.0f\n", keep, fresh)
	default:
		os.Exit(2)
	}
}
