package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procFS reads a /proc tree; its root is a parameter so tests can point
// it at a fixture directory.
type procFS struct{ root string }

// memory is the summed memory of a set of processes, in KiB.
type memory struct {
	RSS, Pss int64
	Procs    int
}

// listenInodes returns the socket inodes of the TCP sockets listening on
// port, from <root>/net/tcp and tcp6.
func (p procFS) listenInodes(port int) (map[uint64]bool, error) {
	out := map[uint64]bool{}
	var read int
	for _, name := range []string{"net/tcp", "net/tcp6"} {
		data, err := os.ReadFile(filepath.Join(p.root, name))
		if err != nil {
			continue
		}
		read++
		for ino := range parseListeners(data, port) {
			out[ino] = true
		}
	}
	if read == 0 {
		return nil, fmt.Errorf("read %s/net/tcp: no TCP tables", p.root)
	}
	return out, nil
}

// parseListeners reads a /proc/net/tcp table: the inodes of the sockets
// in state LISTEN (0A) whose local port is port.
func parseListeners(data []byte, port int) map[uint64]bool {
	out := map[uint64]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) < 10 || f[3] != "0A" {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		pt, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int(pt) != port {
			continue
		}
		ino, err := strconv.ParseUint(f[9], 10, 64)
		if err == nil && ino != 0 {
			out[ino] = true
		}
	}
	return out
}

// pids lists the process ids under root.
func (p procFS) pids() []int {
	ents, _ := os.ReadDir(p.root)
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// holders lists the processes with a descriptor on one of the sockets.
// Processes of other users are skipped when their descriptors cannot be
// read.
func (p procFS) holders(inodes map[uint64]bool) []int {
	var out []int
	for _, pid := range p.pids() {
		dir := filepath.Join(p.root, strconv.Itoa(pid), "fd")
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			link, err := os.Readlink(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			rest, ok := strings.CutPrefix(link, "socket:[")
			if !ok {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
			if err == nil && inodes[ino] {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// ppid is a process's parent, from <root>/<pid>/stat.
func (p procFS) ppid(pid int) (int, bool) {
	data, err := os.ReadFile(filepath.Join(p.root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	return parseStatPPid(data)
}

// parseStatPPid reads the parent pid from a /proc/<pid>/stat line; the
// command name in parentheses may hold spaces and parentheses.
func parseStatPPid(data []byte) (int, bool) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 2 || f[0] == "Z" || f[0] == "X" {
		return 0, false
	}
	n, err := strconv.Atoi(f[1])
	return n, err == nil
}

// tree returns roots and all their live descendants, each once.
func (p procFS) tree(roots []int) []int {
	kids := map[int][]int{}
	for _, pid := range p.pids() {
		if pp, ok := p.ppid(pid); ok {
			kids[pp] = append(kids[pp], pid)
		}
	}
	seen := map[int]bool{}
	var out []int
	var walk func(int)
	walk = func(pid int) {
		if seen[pid] {
			return
		}
		seen[pid] = true
		out = append(out, pid)
		for _, k := range kids[pid] {
			walk(k)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}

// serverPids finds a server's processes: those holding a socket that
// listens on port, and their descendants (the forked service processes,
// which may have closed the listener).
func (p procFS) serverPids(port int) ([]int, error) {
	inodes, err := p.listenInodes(port)
	if err != nil {
		return nil, err
	}
	if len(inodes) == 0 {
		return nil, fmt.Errorf("no socket listens on port %d here", port)
	}
	h := p.holders(inodes)
	if len(h) == 0 {
		return nil, fmt.Errorf("no visible process holds the listener on port %d", port)
	}
	return p.tree(h), nil
}

// mem reads one process's memory in KiB: Rss and Pss from smaps_rollup,
// or VmRSS from status (Pss then 0) on kernels without it.
func (p procFS) mem(pid int) (rss, pss int64, ok bool) {
	dir := filepath.Join(p.root, strconv.Itoa(pid))
	if data, err := os.ReadFile(filepath.Join(dir, "smaps_rollup")); err == nil {
		rss, pss = parseKiB(data, "Rss:"), parseKiB(data, "Pss:")
		if rss > 0 {
			return rss, pss, true
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return 0, 0, false
	}
	rss = parseKiB(data, "VmRSS:")
	return rss, 0, rss > 0
}

// parseKiB finds the line starting with key ("Rss:") and returns its
// value, which /proc gives in kB.
func parseKiB(data []byte, key string) int64 {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), key)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	return 0
}

// sum adds up the memory of pids; processes gone meanwhile are skipped.
func (p procFS) sum(pids []int) memory {
	var m memory
	for _, pid := range pids {
		rss, pss, ok := p.mem(pid)
		if !ok {
			continue
		}
		m.RSS += rss
		m.Pss += pss
		m.Procs++
	}
	return m
}
