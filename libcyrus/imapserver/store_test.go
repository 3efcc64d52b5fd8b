package imapserver

import "testing"

func TestStoreTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "store.txt") }
