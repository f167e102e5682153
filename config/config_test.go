package config

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestDatabaseMaxConns(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  int
		err   bool
	}{
		{"", 0, false},
		{"12", 12, false},
		{"0", 0, true},
		{"-3", 0, true},
		{"eight", 0, true},
		{"5000", 0, true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			t.Setenv("DATABASE_MAX_CONNS", tc.value)
			c, err := FromEnv()
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), "DATABASE_MAX_CONNS") {
					t.Fatalf("DATABASE_MAX_CONNS=%q: err %v, want one naming the variable", tc.value, err)
				}
				return
			}
			if err != nil || c.DatabaseMaxConns != tc.want {
				t.Fatalf("DATABASE_MAX_CONNS=%q: got %d, %v; want %d", tc.value, c.DatabaseMaxConns, err, tc.want)
			}
		})
	}
}

func TestTuneGC(t *testing.T) {
	current := func() int {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	before := current()
	t.Cleanup(func() { debug.SetGCPercent(before) })

	t.Setenv("GOGC", "")
	debug.SetGCPercent(100)
	if got := TuneGC(); got != "GOGC=400" || current() != DefaultGCPercent {
		t.Errorf("without GOGC: %q and GOGC %d in force, want GOGC=%d", got, current(), DefaultGCPercent)
	}
	// The runtime applied the environment's GOGC when the process started;
	// TuneGC must leave it alone.
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	if got := TuneGC(); !strings.Contains(got, "GOGC=150") || current() != 150 {
		t.Errorf("with GOGC=150: %q and GOGC %d in force, want 150 kept", got, current())
	}
}
