package config

import (
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
