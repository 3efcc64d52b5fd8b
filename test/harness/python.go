package harness

import (
	"os/exec"
	"strings"
	"testing"
)

// Python runs a Python 3 script (with the standard library's imaplib,
// poplib, smtplib...) as an independent client. args become sys.argv[1:].
// The test fails with the script's output if it exits non-zero; the
// output is returned otherwise.
func Python(t testing.TB, script string, args ...string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed (apt-get install python3)")
	}
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python client failed: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}
