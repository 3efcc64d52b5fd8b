package imapserver

import "testing"

func TestMetadataTranscript(t *testing.T)     { t.Parallel(); runTranscript(t, "metadata.txt") }
func TestMetadataACLTranscript(t *testing.T)  { t.Parallel(); runTranscript(t, "metadata_acl.txt") }
func TestMetadataListTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "metadata_list.txt") }
func TestSpecialUseMetaTranscript(t *testing.T) {
	t.Parallel()
	runTranscript(t, "metadata_specialuse.txt")
}
