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
	"syscall"
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
	// replayable: sending the request twice does no harm (a GET).
	replayable bool
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
	if method == "HEAD" {
		// Its answer has a Content-Length but no body: not worth the case.
		return nil, fmt.Errorf("bench: HEAD requests are not supported")
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
	return &wire{t: t, addr: u.Host, head: head, replayable: method == "GET" && t.Body == nil}, nil
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
// is closed and the next request dials a new one. A GET on a kept-alive
// connection that the server closed while it was idle is sent again on a
// new one, as net/http's client does; any other request is not, since the
// server may have acted on it before the connection ended.
func (w *wire) do(ctx context.Context) bool {
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
	for attempt := 0; ; attempt++ {
		reused := w.conn != nil
		if !reused {
			d := net.Dialer{Timeout: 5 * time.Second, Control: loopbackOnly}
			c, err := d.DialContext(ctx, "tcp", w.addr)
			if err != nil {
				return false
			}
			w.conn, w.r = c, bufio.NewReaderSize(c, 16<<10)
		}
		status, keep, err := w.roundTrip(ctx)
		if err != nil || !keep {
			w.close()
		}
		if errors.Is(err, errIdleClosed) && reused && attempt == 0 && w.replayable {
			continue
		}
		return err == nil && status == 200 && (w.t.Check == nil || w.t.Check(w.body))
	}
}

// errIdleClosed is a connection that ended before the answer's first byte.
var errIdleClosed = errors.New("bench: the connection was closed before any answer")

// roundTrip writes w.req and reads its answer, giving up when ctx ends.
func (w *wire) roundTrip(ctx context.Context) (status int, keep bool, err error) {
	w.conn.SetDeadline(time.Now().Add(requestTimeout))
	c := w.conn
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() {
			// Cancelled: the connection's deadline is in the past.
			keep = false
		}
	}()
	if _, err := w.conn.Write(w.req); err != nil {
		return 0, false, errIdleClosed
	}
	if _, err := w.r.Peek(1); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return 0, false, errIdleClosed
		}
		return 0, false, err
	}
	return w.read(w.t.Check != nil)
}

var errBadAnswer = errors.New("bench: malformed HTTP answer")

// read reads one answer: its status, whether the connection may be reused,
// and its body into w.body when keepBody is set (discarded otherwise).
func (w *wire) read(keepBody bool) (status int, keep bool, err error) {
	for {
		line, err := w.r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		// "HTTP/1.1 200 OK\r\n"
		if len(line) < 14 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || (line[12] != ' ' && line[12] != '\r') {
			return 0, false, errBadAnswer
		}
		status, err = strconv.Atoi(string(line[9:12]))
		if err != nil || status < 100 {
			return 0, false, errBadAnswer
		}
		keep = line[7] == '1'
		if status >= 200 || status == 101 {
			break
		}
		// An interim answer (100 Continue, 103 Early Hints): skip its
		// headers; the real answer follows.
		if err := w.skipHeaders(); err != nil {
			return 0, false, err
		}
	}
	length, chunked := -1, false
	for {
		line, err := w.r.ReadSlice('\n')
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

// skipHeaders reads past an answer's headers (or trailers).
func (w *wire) skipHeaders() error {
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
			// Trailers, if any, end with a blank line, as headers do.
			return w.skipHeaders()
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
