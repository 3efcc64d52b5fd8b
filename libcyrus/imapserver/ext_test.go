package imapserver

import "testing"

func TestObjectIDTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "objectid.txt") }
func TestSaveDateTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "savedate.txt") }
func TestPreviewTranscript(t *testing.T)  { t.Parallel(); runTranscript(t, "preview.txt") }
func TestCatenateTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "catenate.txt") }
