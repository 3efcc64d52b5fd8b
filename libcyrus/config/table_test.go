package config

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/config/internal/gen"
	"github.com/cyrusgo/cyrusgo/libcyrus/config/internal/table"
)

// TestGeneratedFilesUpToDate fails when keys_gen.go or docs/options.md no
// longer match the option table: run go generate in libcyrus/config.
func TestGeneratedFilesUpToDate(t *testing.T) {
	keys, err := gen.Keys()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path string
		want []byte
	}{
		{"keys_gen.go", keys},
		{"../../docs/options.md", gen.Doc()},
	} {
		got, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatalf("%v (run go generate in libcyrus/config)", err)
		}
		if !bytes.Equal(got, f.want) {
			t.Errorf("%s is stale: run go generate in libcyrus/config", f.path)
		}
	}
}

// TestKeyConstants checks that every constant in keys_gen.go has the key
// type of its option's kind, and that every current option has one.
func TestKeyConstants(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "keys_gen.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			typ := vs.Type.(*ast.Ident).Name
			name, err := strconv.Unquote(vs.Values[0].(*ast.BasicLit).Value)
			if err != nil {
				t.Fatal(err)
			}
			o, ok := optionIndex[name]
			switch {
			case !ok:
				t.Errorf("constant %s names unknown option %q", vs.Names[0].Name, name)
			case gen.KeyType(o.Kind) != typ:
				t.Errorf("constant %s is a %s, but %s is a %s", vs.Names[0].Name, typ, name, o.Kind)
			case o.Go != vs.Names[0].Name:
				t.Errorf("constant %s for %s, table says %s", vs.Names[0].Name, name, o.Go)
			}
			seen[name] = true
		}
	}
	for name, o := range optionIndex {
		if o.Go != "" && !seen[name] {
			t.Errorf("option %s has no constant", name)
		}
	}
}

// TestEveryOptionReadable reads every current option through the accessor
// of its kind, on an empty configuration (defaults) and on one that sets
// every option to its default explicitly.
func TestEveryOptionReadable(t *testing.T) {
	explicit := make(map[string]string)
	for name, o := range optionIndex {
		if o.Default != "" && !o.Deprecated {
			explicit[name] = o.Default
		}
	}
	empty, err := FromMap(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	full, err := FromMap(explicit, "")
	if err != nil {
		t.Fatalf("defaults written out do not parse: %v", err)
	}
	for name, o := range optionIndex {
		if o.ReplacedBy != "" || o.Deprecated {
			continue
		}
		a, b := read(empty, name, o.Kind), read(full, name, o.Kind)
		if !reflect.DeepEqual(a, b) && !(o.Kind == table.List && len(a.([]string)) == 0 && len(b.([]string)) == 0) {
			t.Errorf("%s: default %#v, written out %#v", name, a, b)
		}
	}
}

func read(c *Config, name string, k table.Kind) any {
	switch k {
	case table.String:
		return c.String(StringKey(name))
	case table.Bool:
		return c.Bool(BoolKey(name))
	case table.Int:
		return c.Int(IntKey(name))
	case table.Duration:
		return c.Duration(DurationKey(name))
	case table.Size:
		return c.Size(SizeKey(name))
	case table.Enum:
		return c.Enum(EnumKey(name))
	case table.List:
		return c.List(ListKey(name))
	}
	panic("unknown kind")
}

// TestCyrusDefaults compares every default with the output of Cyrus 3.6's
// "cyr_info conf-default" (testdata/cyr_info_conf-default.txt), value by
// value once parsed, and checks that every Cyrus option is in the table.
func TestCyrusDefaults(t *testing.T) {
	// Defaults cyrusgo sets on purpose.
	differs := map[string]string{
		// Cyrus leaves it NULL and falls back to its compiled-in "cyrus".
		"cyrus_user": "",
	}
	f, err := os.Open("testdata/cyr_info_conf-default.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inCyrus := make(map[string]bool)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		val = strings.TrimPrefix(val, " ")
		inCyrus[name] = true
		o, ok := optionIndex[name]
		if !ok {
			t.Errorf("Cyrus option %s is not in the table", name)
			continue
		}
		if want, ok := differs[name]; ok {
			if val != want {
				t.Errorf("%s: Cyrus default %q, expected %q", name, val, want)
			}
			continue
		}
		var cyrus any = zero(o.Kind)
		if val != "" {
			cyrus, _, err = parseValue(o, val)
			if err != nil {
				t.Errorf("%s: Cyrus default %q does not parse: %v", name, val, err)
				continue
			}
		}
		ours := defaults[name]
		if o.Kind == table.List && len(cyrus.([]string)) == 0 && len(ours.([]string)) == 0 {
			continue
		}
		if !reflect.DeepEqual(cyrus, ours) {
			t.Errorf("%s: default %#v (%q), Cyrus 3.6 has %#v (%q)", name, ours, o.Default, cyrus, val)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for name, o := range optionIndex {
		// autocreate_acl is documented by Cyrus but read outside its table.
		if o.Origin == table.Cyrus && !inCyrus[name] && name != "autocreate_acl" {
			t.Errorf("%s is marked as a Cyrus option but Cyrus 3.6 does not list it", name)
		}
	}
}

// TestNamedOptions checks that the options the design and the issues name
// are in the table and marked as acted on.
func TestNamedOptions(t *testing.T) {
	for _, name := range strings.Fields(`
		client_limit cyrus_user master_ready_file sasl_pwcheck_method
		sasl_saslauthd_path sasl_mech_list tls_server_cert tls_server_key
		tls_client_ca_file tls_versions tls_ciphers allowplaintext
		tls_required admins proxyservers singleinstancestore
		duplicatesuppression delete_mode expunge_mode imapidlepoll maxword
		maxquoted maxliteral maxargssize literalminus specialuse_protect
		popuseacl popuseimapflags popsubfolders popexpiretime popminpoll
		poptimeout reject8bit munge8bit lmtp_fuzzy_mailbox_match
		lmtp_catchall_mailbox lmtp_over_quota_perm_failure
		lmtp_downcase_rcpt sieve_maxscripts sieve_maxscriptsize
		sieve_use_lmtp_reject sieve_extensions sieve_vacation_min_response
		sieve_vacation_max_response sievedir sendmail metapartition_files
		hashimapspool virtdomains defaultdomain unixhierarchysep
		altnamespace userprefix sharedprefix implicit_owner_rights
		quotawarn maxmessagesize serverinfo timeout imapidletimeout
		loginrealms syslog_prefix syslog_facility allowapop
		autocreate_quota autocreate_post configdirectory defaultpartition`) {
		o, ok := optionIndex[name]
		switch {
		case !ok:
			t.Errorf("%s is not in the table", name)
		case !o.Used:
			t.Errorf("%s is not marked as used", name)
		}
	}
}
