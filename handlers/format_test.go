package handlers

import "testing"

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		cents    int64
		currency string
		want     string
	}{
		{0, "usd", "$0"}, {15000, "usd", "$150"}, {150000, "mxn", "MX$1,500"}, {1250, "usd", "$12.50"},
		{123456789, "usd", "$1,234,567.89"}, {-500, "usd", "-$5"},
	} {
		if got := Money(tc.cents, tc.currency); got != tc.want {
			t.Errorf("Money(%d, %s) = %q, want %q", tc.cents, tc.currency, got, tc.want)
		}
	}
}
