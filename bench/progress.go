package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws a one-line progress bar of the current phase on a
// terminal. A nil or disabled progress does nothing, so workloads call it
// unconditionally.
type progress struct {
	w       io.Writer
	mu      sync.Mutex
	label   string
	total   int
	done    int
	started time.Time
	stop    chan struct{}
	wg      sync.WaitGroup
}

// newProgress returns a progress on stderr when stderr is a terminal and
// enabled is set, and a silent one otherwise.
func newProgress(enabled bool) *progress {
	if !enabled || !isTerminal(os.Stderr) {
		return &progress{}
	}
	return &progress{w: os.Stderr}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// begin starts a phase of total steps.
func (p *progress) begin(label string, total int) {
	if p == nil || p.w == nil {
		return
	}
	p.end()
	p.mu.Lock()
	p.label, p.total, p.done, p.started = label, total, 0, time.Now()
	p.stop = make(chan struct{})
	p.mu.Unlock()
	p.wg.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	})
}

// add counts n steps done.
func (p *progress) add(n int) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	p.done += n
	p.mu.Unlock()
}

// end finishes the phase and clears the line.
func (p *progress) end() {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	stop := p.stop
	p.stop = nil
	p.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	p.wg.Wait()
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 79))
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%s", bar(p.label, p.done, p.total, time.Since(p.started)))
}

// bar renders a progress line of at most 79 columns.
func bar(label string, done, total int, elapsed time.Duration) string {
	const width = 24
	filled := 0
	if total > 0 {
		filled = min(width*done/total, width)
	}
	line := fmt.Sprintf("%-32.32s [%s%s] %d/%d %s", label,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, elapsed.Truncate(time.Second))
	if len(line) > 79 {
		line = line[:79]
	}
	return line
}
