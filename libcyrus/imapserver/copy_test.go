package imapserver

import "testing"

func TestCopyTranscript(t *testing.T)      { t.Parallel(); runTranscript(t, "copy.txt") }
func TestOverQuotaTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "overquota.txt") }
