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

	// The runtime applies GOGC and GOMEMLIMIT when the process starts; each
	// case sets what it would have applied, then calls TuneGC.
	for _, tc := range []struct {
		name, gogc, limit string
		runtimeP          int
		runtimeL          int64
		want              string
		wantP             int
		wantL             int64
	}{
		{"neither set", "", "", 100, math.MaxInt64, "GOGC=400, GOMEMLIMIT=96MiB", DefaultGCPercent, DefaultMemoryLimit},
		{"both set", "150", "1GiB", 150, 1 << 30, "GOGC=150, GOMEMLIMIT=1024MiB", 150, 1 << 30},
		{"GOGC only", "off", "", -1, math.MaxInt64, "GOGC=off, GOMEMLIMIT=96MiB", -1, DefaultMemoryLimit},
		{"GOMEMLIMIT only", "", "512MiB", 100, 512 << 20, "GOGC=400, GOMEMLIMIT=512MiB", DefaultGCPercent, 512 << 20},
		// The runtime ignores a GOGC it cannot read and keeps 100; the
		// report says so rather than echoing the variable.
		{"unreadable GOGC", "4OO", "", 100, math.MaxInt64, "GOGC=100, GOMEMLIMIT=96MiB", 100, DefaultMemoryLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc)
			t.Setenv("GOMEMLIMIT", tc.limit)
			debug.SetGCPercent(tc.runtimeP)
			debug.SetMemoryLimit(tc.runtimeL)
			if got := TuneGC(); got != tc.want || percent() != tc.wantP || limit() != tc.wantL {
				t.Errorf("TuneGC() = %q with GOGC %d and limit %d in force; want %q, %d, %d",
					got, percent(), limit(), tc.want, tc.wantP, tc.wantL)
			}
		})
	}
}
