package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:DAB8 01 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0
   2: 00000000:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0
   3: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0
   4: garbage
`

func TestParseListeners(t *testing.T) {
	for _, c := range []struct {
		port int
		want []uint64
	}{
		{8080, []uint64{12345}}, // the established socket (01) and inode 0 are left out
		{25, []uint64{555}},
		{143, nil},
	} {
		got := parseListeners([]byte(tcpTable), c.port)
		var inodes []uint64
		for ino := range got {
			inodes = append(inodes, ino)
		}
		slices.Sort(inodes)
		if !slices.Equal(inodes, c.want) {
			t.Errorf("port %d: %v, want %v", c.port, inodes, c.want)
		}
	}
}

func TestParseStatPPid(t *testing.T) {
	for _, c := range []struct {
		stat string
		want int
		ok   bool
	}{
		{"42 (imapd) S 7 42 42 0 -1", 7, true},
		{"42 (a) b (c) S 9 42 42 0", 9, true}, // a name with spaces and parentheses
		{"42 (dead) Z 7 42", 0, false},
		{"42 imapd S 7", 0, false},
		{"42 (x)", 0, false},
	} {
		got, ok := parseStatPPid([]byte(c.stat))
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %d %v, want %d %v", c.stat, got, ok, c.want, c.ok)
		}
	}
}

func TestParseKiB(t *testing.T) {
	rollup := "55d65aa2e000-7ffdd2205000 ---p 00000000 00:00 0   [rollup]\nRss:                1768 kB\nPss:                 223 kB\nPss_Dirty:           112 kB\n"
	for _, c := range []struct {
		key  string
		want int64
	}{
		{"Rss:", 1768}, {"Pss:", 223}, {"Pss_Dirty:", 112}, {"VmRSS:", 0},
	} {
		if got := parseKiB([]byte(rollup), c.key); got != c.want {
			t.Errorf("%s = %d, want %d", c.key, got, c.want)
		}
	}
	if got := parseKiB([]byte("Rss: lots kB\n"), "Rss:"); got != 0 {
		t.Errorf("bad number: %d", got)
	}
}

// fakeProc builds a /proc tree: master 100 holds the listener on 8080,
// its child 101 (an imapd without smaps_rollup) does not, 102 is
// unrelated, 103 is 101's child.
func fakeProc(t *testing.T) procFS {
	t.Helper()
	root := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("net/tcp", tcpTable)
	procs := []struct {
		pid, ppid int
		rollup    string
		status    string
		socket    string
	}{
		{100, 1, "Rss: 1000 kB\nPss: 600 kB\n", "", "socket:[12345]"},
		{101, 100, "", "Name: imapd\nVmRSS:\t 500 kB\n", "socket:[777]"},
		{102, 1, "Rss: 9000 kB\nPss: 9000 kB\n", "", "socket:[555]"},
		{103, 101, "Rss: 200 kB\nPss: 50 kB\n", "", "pipe:[1]"},
	}
	for _, p := range procs {
		write(fmt.Sprintf("%d/stat", p.pid), fmt.Sprintf("%d (proc %d) S %d 1 1 0", p.pid, p.pid, p.ppid))
		if p.rollup != "" {
			write(fmt.Sprintf("%d/smaps_rollup", p.pid), p.rollup)
		}
		if p.status != "" {
			write(fmt.Sprintf("%d/status", p.pid), p.status)
		}
		fd := filepath.Join(root, fmt.Sprint(p.pid), "fd")
		if err := os.MkdirAll(fd, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p.socket, filepath.Join(fd, "3")); err != nil {
			t.Fatal(err)
		}
	}
	return procFS{root: root}
}

func TestServerPidsAndSum(t *testing.T) {
	p := fakeProc(t)
	pids, err := p.serverPids(8080)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pids)
	if !slices.Equal(pids, []int{100, 101, 103}) {
		t.Fatalf("server pids %v, want [100 101 103]", pids)
	}
	m := p.sum(append(pids, 999)) // 999 is gone: skipped
	if m != (memory{RSS: 1700, Pss: 650, Procs: 3}) {
		t.Fatalf("sum %+v", m)
	}
	if _, err := p.serverPids(143); err == nil {
		t.Fatal("no listener on 143, want an error")
	}
	if _, err := (procFS{root: t.TempDir()}).serverPids(8080); err == nil {
		t.Fatal("no TCP tables, want an error")
	}
}

// TestServerPidsLive finds this test process by a listener it opens, on
// the real /proc.
func TestServerPidsLive(t *testing.T) {
	if _, err := os.Stat("/proc/self/net/tcp"); err != nil {
		t.Skip("no /proc")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := procFS{root: "/proc"}
	pids, err := p.serverPids(ln.Addr().(*net.TCPAddr).Port)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, os.Getpid()) {
		t.Fatalf("pids %v lack this process %d", pids, os.Getpid())
	}
	rss, _, ok := p.mem(os.Getpid())
	if !ok || rss <= 0 {
		t.Fatalf("own memory %d %v", rss, ok)
	}
}
