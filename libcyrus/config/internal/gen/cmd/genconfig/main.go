// Command genconfig writes the files produced from the imapd.conf option
// table: the typed key constants of package config and docs/options.md.
// It is run by go generate in libcyrus/config:
//
//	go run ./internal/gen/cmd/genconfig -keys keys_gen.go -doc ../../docs/options.md
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/cyrusgo/cyrusgo/libcyrus/config/internal/gen"
)

func main() {
	keys := flag.String("keys", "keys_gen.go", "output path of the key constants")
	doc := flag.String("doc", "../../docs/options.md", "output path of the options documentation")
	flag.Parse()
	if err := run(*keys, *doc); err != nil {
		fmt.Fprintln(os.Stderr, "genconfig:", err)
		os.Exit(1)
	}
}

func run(keysPath, docPath string) error {
	src, err := gen.Keys()
	if err != nil {
		return err
	}
	if err := os.WriteFile(keysPath, src, 0o644); err != nil {
		return fmt.Errorf("write keys: %w", err)
	}
	if err := os.WriteFile(docPath, gen.Doc(), 0o644); err != nil {
		return fmt.Errorf("write docs: %w", err)
	}
	return nil
}
