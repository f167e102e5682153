package paymentstest

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const notInstalled = "stripe-mock is not installed: run scripts/ensure-stripe-mock.sh (or make test)"

// startTimeout bounds how long stripe-mock may take to load its OpenAPI spec
// and answer, on a busy two-core CI machine.
const startTimeout = 30 * time.Second

var listeningRE = regexp.MustCompile(`Listening for HTTP at address: (\S+)`)

// StartStripeMock starts a stripe-mock process on a free loopback port for the
// test, waits until it answers, stops it when the test ends and returns its
// base URL (for Config.APIBase). It fails the test, never skips it, when the
// binary is in neither GOBIN, GOPATH/bin nor PATH.
func StartStripeMock(t testing.TB) (apiBase string) {
	t.Helper()
	bin, ok := findStripeMock()
	if !ok {
		t.Fatal(notInstalled)
	}

	out := &syncBuffer{limit: 64 << 10}
	// An explicit HTTPS address too: with only -http-addr stripe-mock would
	// also bind HTTPS on :12112, and parallel test packages would collide.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = out, out
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("stripe-mock output:\n%s", out)
		}
	})

	deadline := time.After(startTimeout)
	var addr string
	for {
		if m := listeningRE.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case <-exited:
			t.Fatalf("stripe-mock exited before listening:\n%s", out)
		case <-deadline:
			t.Fatalf("stripe-mock did not start listening within %v:\n%s", startTimeout, out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	apiBase = "http://" + addr

	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		if answers(hc, apiBase) {
			return apiBase
		}
		select {
		case <-exited:
			t.Fatalf("stripe-mock exited before answering:\n%s", out)
		case <-deadline:
			t.Fatalf("stripe-mock at %s did not answer within %v:\n%s", apiBase, startTimeout, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func answers(hc *http.Client, apiBase string) bool {
	req, err := http.NewRequest(http.MethodGet, apiBase+"/v1/customers", nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer sk_test_123")
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// findStripeMock looks first where `go install` (and so
// scripts/ensure-stripe-mock.sh) puts binaries, which is often not on a CI
// machine's PATH, then on PATH. go test puts the go command on the PATH of
// test binaries, so `go env` answers.
func findStripeMock() (string, bool) {
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(string(out), "\n")
		if gobin := strings.TrimSpace(lines[0]); gobin != "" {
			dirs = append(dirs, gobin)
		}
		if len(lines) > 1 {
			for _, p := range filepath.SplitList(strings.TrimSpace(lines[1])) {
				dirs = append(dirs, filepath.Join(p, "bin"))
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "stripe-mock")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, true
	}
	return "", false
}

// syncBuffer collects the process's output, up to limit bytes, for error messages.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
