package config

//go:generate go run ./internal/gen/cmd/genconfig -keys keys_gen.go -doc ../../docs/options.md

// The key types make the kind of an option part of its constant's type:
// Config.Bool takes only a BoolKey, so reading a duration as a bool does
// not compile. The constants are generated from the option table into
// keys_gen.go, one per option, named after the option in Go style
// (allowplaintext -> AllowPlaintext, tls_server_cert -> TLSServerCert).
// Deprecated names have no constant: code reads the new name, and the
// parser maps the old one to it.

// StringKey names an option whose value is free text.
type StringKey string

// BoolKey names a yes/no option.
type BoolKey string

// IntKey names an integer option.
type IntKey string

// DurationKey names a duration option.
type DurationKey string

// SizeKey names a size option; Config.Size returns bytes.
type SizeKey string

// EnumKey names an option whose value is one of a fixed set of words.
type EnumKey string

// ListKey names a whitespace-separated list option.
type ListKey string
