package lmtpserver

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTranscripts runs every golden transcript in testdata.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runTranscript(t, filepath.Base(f))
		})
	}
}
