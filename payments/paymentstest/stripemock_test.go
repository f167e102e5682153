package paymentstest

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestStartStripeMockAnswersAndStops(t *testing.T) {
	var base string
	t.Run("start", func(t *testing.T) {
		base = StartStripeMock(t)
		if !answers(http.DefaultClient, base) {
			t.Fatalf("stripe-mock at %s does not answer", base)
		}
	})
	// The subtest's cleanup has run: the process must be gone.
	hc := &http.Client{Timeout: time.Second}
	if answers(hc, base) {
		t.Errorf("stripe-mock at %s still answers after the test ended", base)
	}
}

// fatalTB records the message StartStripeMock fails with.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper()                      {}
func (f *fatalTB) Cleanup(func())               {}
func (f *fatalTB) Fatal(args ...any)            { f.msg = fmt.Sprint(args...); runtime.Goexit() }
func (f *fatalTB) Fatalf(s string, args ...any) { f.Fatal(fmt.Sprintf(s, args...)) }

func TestStartStripeMockFailsWhenNotInstalled(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is not on PATH: %v", err)
	}
	empty := t.TempDir()
	t.Setenv("PATH", filepath.Dir(goBin))
	t.Setenv("GOENV", "off")
	t.Setenv("GOBIN", empty)
	t.Setenv("GOPATH", empty)

	f := &fatalTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartStripeMock(f)
		f.msg = "returned without failing"
	}()
	<-done
	if want := "stripe-mock is not installed: run scripts/ensure-stripe-mock.sh (or make test)"; f.msg != want {
		t.Errorf("failure = %q, want %q", f.msg, want)
	}
}
