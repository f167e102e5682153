package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// The load generator's client. It shares a process and two CPUs with the app
// it measures, so what it spends is taken from the app: Go's net/http client
// hands every request between three goroutines and allocates about 8 KB for
// it, and at 2,000 check-ins a second that was a fifth of the process's CPU
// and over a third of its garbage, collected on the app's time. Like wrk,
// this client writes each request on its own keep-alive connection from a
// prepared head and reads the answer in place: one goroutine, nothing
// allocated but the request's body. Row and baseline use it alike.

// requestTimeout bounds one request, so a server that stops answering fails
// the bench instead of hanging it.
const requestTimeout = 30 * time.Second

// wire is one client's HTTP/1.1 connection to a target. It is not safe for
// concurrent use: each load-generator client has its own.
type wire struct {
	t    Target
	addr string
	head []byte // request line and headers, without Content-Length and the blank line
	conn net.Conn
	r    *bufio.Reader
	req  []byte // the request being written, reused
	body []byte // the answer's body, when t.Check wants it, reused
}

// newWire prepares t's requests; it connects on first use.
func newWire(t Target) (*wire, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("bench: %s is not an http:// URL", t.URL)
	}
	method := t.Method
	if method == "" {
		method = "GET"
	}
	head := []byte(method + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: convene-bench\r\n")
	keys := make([]string, 0, len(t.Header))
	for k := range t.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range t.Header[k] {
			head = append(head, k+": "+v+"\r\n"...)
		}
	}
	return &wire{t: t, addr: u.Host, head: head}, nil
}

// newWires prepares n connections to t.
func newWires(t Target, n int) ([]*wire, error) {
	ws := make([]*wire, n)
	for i := range ws {
		w, err := newWire(t)
		if err != nil {
			return nil, err
		}
		ws[i] = w
	}
	return ws, nil
}

func closeWires(ws []*wire) {
	for _, w := range ws {
		w.close()
	}
}

func (w *wire) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn, w.r = nil, nil
	}
}

// do makes one request and reads the whole answer: true means a 200 that
// t.Check, when the target has one, accepts. After any error the connection
// is closed and the next request dials a new one.
func (w *wire) do(ctx context.Context) bool {
	if w.conn == nil {
		d := net.Dialer{Timeout: 5 * time.Second, Control: loopbackOnly}
		c, err := d.DialContext(ctx, "tcp", w.addr)
		if err != nil {
			return false
		}
		w.conn, w.r = c, bufio.NewReaderSize(c, 16<<10)
	}
	w.req = append(w.req[:0], w.head...)
	if w.t.Body != nil {
		b := w.t.Body()
		w.req = append(w.req, "Content-Length: "...)
		w.req = strconv.AppendInt(w.req, int64(len(b)), 10)
		w.req = append(w.req, "\r\n\r\n"...)
		w.req = append(w.req, b...)
	} else {
		w.req = append(w.req, "\r\n"...)
	}
	w.conn.SetDeadline(time.Now().Add(requestTimeout))
	if _, err := w.conn.Write(w.req); err != nil {
		w.close()
		return false
	}
	status, keep, err := w.read(w.t.Check != nil)
	if err != nil || !keep {
		w.close()
	}
	return err == nil && status == 200 && (w.t.Check == nil || w.t.Check(w.body))
}

var errBadAnswer = errors.New("bench: malformed HTTP answer")

// read reads one answer: its status, whether the connection may be reused,
// and its body into w.body when keepBody is set (discarded otherwise).
func (w *wire) read(keepBody bool) (status int, keep bool, err error) {
	line, err := w.r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, errBadAnswer
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, errBadAnswer
	}
	keep = line[7] == '1'
	length, chunked := -1, false
	for {
		line, err = w.r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, errBadAnswer
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil || length < 0 {
				return 0, false, errBadAnswer
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			keep = keep && !bytes.EqualFold(v, []byte("close"))
		}
	}
	w.body = w.body[:0]
	switch {
	case status < 200 || status == 204 || status == 304:
		// No body.
	case chunked:
		err = w.readChunked(keepBody)
	case length >= 0:
		err = w.readN(length, keepBody)
	default:
		// The body runs to the end of the connection.
		keep = false
		if keepBody {
			w.body, err = appendAll(w.body, w.r)
		} else {
			_, err = io.Copy(io.Discard, w.r)
		}
	}
	return status, keep, err
}

func (w *wire) readN(n int, keepBody bool) error {
	if !keepBody {
		_, err := w.r.Discard(n)
		return err
	}
	start := len(w.body)
	w.body = slices.Grow(w.body, n)[:start+n]
	_, err := io.ReadFull(w.r, w.body[start:])
	return err
}

func (w *wire) readChunked(keepBody bool) error {
	for {
		line, err := w.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 32)
		if err != nil || n < 0 {
			return errBadAnswer
		}
		if n == 0 {
			// Trailers, if any, end with a blank line.
			for {
				line, err := w.r.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if err := w.readN(int(n), keepBody); err != nil {
			return err
		}
		if crlf, err := w.r.ReadSlice('\n'); err != nil || len(bytes.TrimRight(crlf, "\r\n")) != 0 {
			return errBadAnswer
		}
	}
}

func appendAll(dst []byte, r io.Reader) ([]byte, error) {
	var b bytes.Buffer
	b.Write(dst)
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}
