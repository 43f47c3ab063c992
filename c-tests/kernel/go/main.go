// A Go target for `make kernel-test`, built with CGO_ENABLED=0 (static, so
// no LD_PRELOAD reaches it): dials and sends with Go's own runtime
// (non-blocking sockets, connect with EINPROGRESS, epoll, signal-based
// preemption), one line per check.
//
//	dial ADDR        a TCP dial: "dial ok" or "dial error: ..."
//	udp ADDR         a UDP datagram to ADDR (unconnected WriteTo)
//	many ADDR N      N goroutines dial ADDR and read its greeting at once
//	                 while others spin (preempted by signals): "many ok N"
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

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
	default:
		os.Exit(2)
	}
}
