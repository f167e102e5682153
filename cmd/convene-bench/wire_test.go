package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// server answers the paths the tests ask for, as net/http does, and counts
// the connections opened to it.
func server(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write([]byte(r.Method + " " + r.Header.Get("Authorization") + " " + string(b)))
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for _, part := range []string{"first ", "second ", strings.Repeat("x", 20_000)} {
			w.Write([]byte(part))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Write([]byte("bye"))
	})
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("short and stout"))
	})
	hangup := func(w http.ResponseWriter) {
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut"))
		c.Close()
	}
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, r *http.Request) { hangup(w) })
	var flaky atomic.Int64
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		// Every other request is cut short.
		if flaky.Add(1)%2 == 1 {
			hangup(w)
			return
		}
		w.Write([]byte("ok"))
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestWireReusesItsConnectionAndReadsTheBody(t *testing.T) {
	srv, conns := server(t)
	var got string
	w, err := newWire(Target{URL: srv.URL + "/echo", Method: http.MethodPost,
		Header: http.Header{"Authorization": {"Bearer abc"}},
		Body:   func() []byte { return []byte(`{"code":"x"}`) },
		Check:  func(b []byte) bool { got = string(b); return true }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	for i := range 5 {
		if !w.do(context.Background()) {
			t.Fatalf("request %d failed", i)
		}
	}
	if got != `POST Bearer abc {"code":"x"}` {
		t.Errorf("the server saw %q, want the method, header and body sent", got)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 requests, want 1 kept alive", n)
	}
}

func TestWireReadsChunkedAnswers(t *testing.T) {
	srv, conns := server(t)
	var got string
	w, _ := newWire(Target{URL: srv.URL + "/chunked", Check: func(b []byte) bool { got = string(b); return true }})
	defer w.close()
	for range 3 {
		if !w.do(context.Background()) {
			t.Fatal("chunked request failed")
		}
	}
	if want := "first second " + strings.Repeat("x", 20_000); got != want {
		t.Errorf("body of %d bytes, want %d", len(got), len(want))
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1 kept alive across chunked answers", n)
	}
	// Discarding a chunked body leaves the connection usable too.
	d, _ := newWire(Target{URL: srv.URL + "/chunked"})
	defer d.close()
	for range 3 {
		if !d.do(context.Background()) {
			t.Fatal("chunked request failed when discarding the body")
		}
	}
}

func TestWireDialsAgainAfterConnectionClose(t *testing.T) {
	srv, conns := server(t)
	w, _ := newWire(Target{URL: srv.URL + "/close"})
	defer w.close()
	for range 3 {
		if !w.do(context.Background()) {
			t.Fatal("request failed")
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3: the server closes each", n)
	}
}

func TestWireCountsWhatIsNotAnAnswer(t *testing.T) {
	srv, conns := server(t)
	for _, c := range []struct {
		name string
		t    Target
	}{
		{"another status", Target{URL: srv.URL + "/teapot"}},
		{"a body Check refuses", Target{URL: srv.URL + "/echo", Check: func([]byte) bool { return false }}},
		{"a body cut short", Target{URL: srv.URL + "/hangup"}},
		{"a body cut short, kept", Target{URL: srv.URL + "/hangup", Check: func([]byte) bool { return true }}},
		{"nobody listening", Target{URL: "http://127.0.0.1:1/"}},
	} {
		w, err := newWire(c.t)
		if err != nil {
			t.Fatal(err)
		}
		if w.do(context.Background()) {
			t.Errorf("%s: counted as answered", c.name)
		}
		w.close()
	}
	// After a failure the next request goes on a new connection and succeeds.
	before := conns.Load()
	w, _ := newWire(Target{URL: srv.URL + "/flaky"})
	defer w.close()
	for i := range 4 {
		if ok := w.do(context.Background()); ok != (i%2 == 1) {
			t.Fatalf("request %d: answered %v", i, ok)
		}
	}
	if n := conns.Load() - before; n != 3 {
		t.Errorf("%d connections for 4 requests, want 3: a new one after each cut-short answer", n)
	}
}

func TestWireRefusesAnythingButLoopback(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:80/", "http://192.0.2.1/"} {
		w, err := newWire(Target{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		if w.do(context.Background()) {
			t.Errorf("%s: answered", u)
		}
	}
	for _, u := range []string{"https://127.0.0.1/", "127.0.0.1:80", "http:///x"} {
		if _, err := newWire(Target{URL: u}); err == nil {
			t.Errorf("%s: accepted", u)
		}
	}
}

// tcpServer runs serve on each connection made to a new loopback listener
// and returns its http:// URL.
func tcpServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

// rawServer answers every request on a connection with answer, as raw bytes,
// until the connection closes; closeAfterOne closes each connection shortly
// after its first answer, as a server does with an idle connection.
func rawServer(t *testing.T, answer string, closeAfterOne bool) string {
	return tcpServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			c.Write([]byte(answer))
			if closeAfterOne {
				time.Sleep(20 * time.Millisecond)
				return
			}
		}
	})
}

func TestWireReadsPastInterimAnswers(t *testing.T) {
	u := rawServer(t, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false)
	var got []string
	w, _ := newWire(Target{URL: u, Check: func(b []byte) bool { got = append(got, string(b)); return true }})
	defer w.close()
	for i := range 3 {
		if !w.do(context.Background()) {
			t.Fatalf("request %d after an interim answer failed", i)
		}
	}
	if strings.Join(got, ",") != "ok,ok,ok" {
		t.Errorf("bodies %q", got)
	}
}

func TestWireRefusesMalformedStatusLines(t *testing.T) {
	for _, answer := range []string{
		"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
		"ICY 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
	} {
		w, _ := newWire(Target{URL: rawServer(t, answer, false)})
		if w.do(context.Background()) {
			t.Errorf("%q counted as answered", answer)
		}
		w.close()
	}
	if _, err := newWire(Target{URL: "http://127.0.0.1:1/", Method: "HEAD"}); err == nil {
		t.Error("a HEAD target was accepted")
	}
}

func TestWireDialsAgainWhenAnIdleConnectionWasClosed(t *testing.T) {
	u := rawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true)
	w, _ := newWire(Target{URL: u})
	defer w.close()
	for i := range 3 {
		if !w.do(context.Background()) {
			t.Fatalf("request %d on a connection the server closed while idle: counted as an error", i)
		}
		time.Sleep(50 * time.Millisecond) // the server closes meanwhile
	}
}

func TestWireGivesUpWhenCancelled(t *testing.T) {
	// A server that never answers.
	u := tcpServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	w, _ := newWire(Target{URL: u})
	defer w.close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if w.do(ctx) {
		t.Fatal("answered")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %s, want soon after the context ended", d)
	}
}

// TestWireNeverSendsAPostTwice: a server that acts on a request and then
// drops the connection without answering may have checked someone in; the
// POST is counted as an error, not sent again, where a GET is sent again.
func TestWireNeverSendsAPostTwice(t *testing.T) {
	var acted atomic.Int64
	u := tcpServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		for n := 0; ; n++ {
			if _, err := c.Read(buf); err != nil {
				return
			}
			acted.Add(1)
			if n == 1 {
				return // acted on the second request, then gone
			}
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		}
	})
	post, _ := newWire(Target{URL: u, Method: http.MethodPost, Body: func() []byte { return []byte("{}") }})
	defer post.close()
	if !post.do(context.Background()) {
		t.Fatal("the first POST failed")
	}
	if post.do(context.Background()) {
		t.Error("a POST the server dropped counted as answered")
	}
	if n := acted.Load(); n != 2 {
		t.Errorf("the server acted on %d POSTs, want 2: the dropped one was sent again", n)
	}
	get, _ := newWire(Target{URL: u})
	defer get.close()
	for i := range 2 {
		if !get.do(context.Background()) {
			t.Errorf("GET %d: a GET on a dropped connection was not sent again", i)
		}
	}
}
