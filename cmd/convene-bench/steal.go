package main

import (
	"bytes"
	"os"
	"strconv"
)

// cpuTicks is the machine's CPU time so far, from /proc/stat's first line,
// in clock ticks: all of it, and what the hypervisor took for other guests
// (steal). On a virtual machine whose host is busy, steal is time the bench
// meant to run and could not, which no change to the app gives back.
type cpuTicks struct{ total, steal uint64 }

// readCPUTicks reads /proc/stat; zero where there is none (not Linux).
func readCPUTicks() cpuTicks {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTicks{}
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return cpuTicks{}
	}
	var t cpuTicks
	// user nice system idle iowait irq softirq steal: guest time is
	// already counted in user.
	for i, s := range f[1:9] {
		v, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return cpuTicks{}
		}
		t.total += v
		if i == 7 {
			t.steal = v
		}
	}
	return t
}

// since is the CPU time between an earlier reading and this one.
func (t cpuTicks) since(earlier cpuTicks) cpuTicks {
	if t.total < earlier.total || t.steal < earlier.steal {
		return cpuTicks{}
	}
	return cpuTicks{total: t.total - earlier.total, steal: t.steal - earlier.steal}
}

// stealShare is the share of CPU time the hypervisor took, 0 to 1.
func (t cpuTicks) stealShare() float64 {
	if t.total == 0 {
		return 0
	}
	return float64(t.steal) / float64(t.total)
}
