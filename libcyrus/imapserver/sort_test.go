package imapserver

import "testing"

func TestSortTranscript(t *testing.T)   { t.Parallel(); runTranscript(t, "sort.txt") }
func TestThreadTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "thread.txt") }
