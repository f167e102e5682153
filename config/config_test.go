package config

import (
	"math"
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
	percent := func() int {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	limit := func() int64 { return debug.SetMemoryLimit(-1) } // -1 reads it
	p0, l0 := percent(), limit()
	t.Cleanup(func() { debug.SetGCPercent(p0); debug.SetMemoryLimit(l0) })

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	if got := TuneGC(); got != "GOGC=400, GOMEMLIMIT=96MiB" || percent() != DefaultGCPercent || limit() != DefaultMemoryLimit {
		t.Errorf("with neither set: %q, and GOGC %d, limit %d in force; want GOGC=%d, limit %d",
			got, percent(), limit(), DefaultGCPercent, DefaultMemoryLimit)
	}
	// The runtime applied the environment's settings when the process
	// started; TuneGC must leave each alone.
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 30)
	if got := TuneGC(); !strings.Contains(got, "GOGC=150") || !strings.Contains(got, "GOMEMLIMIT=1GiB") || percent() != 150 || limit() != 1<<30 {
		t.Errorf("with both set: %q, and GOGC %d, limit %d in force; want both kept", got, percent(), limit())
	}
}
