package auth

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

func TestStoreRoundTrip(t *testing.T) {
	db := cyrusdb.NewMem()
	if err := setPassword(db, "alice", "first", testParams, true); err != nil {
		t.Fatal(err)
	}
	rec, err := loadRecord(db, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for pw, want := range map[string]bool{"first": true, "First": false, "": false, "first ": false} {
		if ok, err := rec.verifyPlain(pw); err != nil || ok != want {
			t.Errorf("verifyPlain(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if rec.SHA1 == nil || rec.SHA256 == nil || len(rec.SHA1.StoredKey) != 20 || len(rec.SHA256.StoredKey) != 32 {
		t.Errorf("SCRAM verifiers missing or wrong size: %+v %+v", rec.SHA1, rec.SHA256)
	}
	if string(rec.SHA1.Salt) == string(rec.SHA256.Salt) || string(rec.SHA1.Salt) == string(rec.Plain.Salt) {
		t.Error("salts are shared between verifiers")
	}

	if err := setPassword(db, "alice", "second", testParams, true); !errors.Is(err, ErrUserExists) {
		t.Errorf("AddUser of an existing user: %v, want ErrUserExists", err)
	}
	if err := setPassword(db, "alice", "second", testParams, false); err != nil {
		t.Fatal(err)
	}
	rec, _ = loadRecord(db, "alice")
	if ok, _ := rec.verifyPlain("second"); !ok {
		t.Error("new password not accepted")
	}
	if ok, _ := rec.verifyPlain("first"); ok {
		t.Error("old password still accepted")
	}

	if err := SetPassword(db, "bob", "pw"); err != nil {
		t.Fatal(err)
	}
	users, err := ListUsers(db)
	if err != nil || !slices.Equal(users, []string{"alice", "bob"}) {
		t.Errorf("ListUsers = %v, %v", users, err)
	}
	if ok, err := UserExists(db, "bob"); !ok || err != nil {
		t.Errorf("UserExists(bob) = %v, %v", ok, err)
	}
	if err := DeleteUser(db, "bob"); err != nil {
		t.Fatal(err)
	}
	if ok, err := UserExists(db, "bob"); ok || err != nil {
		t.Errorf("UserExists(bob) after delete = %v, %v", ok, err)
	}
	if err := DeleteUser(db, "bob"); !errors.Is(err, ErrNoUser) {
		t.Errorf("DeleteUser of a missing user: %v, want ErrNoUser", err)
	}
}

func TestStoreRefuses(t *testing.T) {
	db := cyrusdb.NewMem()
	for _, c := range []struct{ user, pw string }{
		{"", "pw"}, {"al ice", "pw"}, {"al\nice", "pw"}, {"alice", ""}, {"\xff", "pw"},
	} {
		if err := setPassword(db, c.user, c.pw, testParams, false); err == nil {
			t.Errorf("setPassword(%q, %q) succeeded", c.user, c.pw)
		}
	}
	// A record written by a newer program is refused, not misread.
	if err := db.Put([]byte("future"), []byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRecord(db, "future"); err == nil {
		t.Error("record version 2 accepted")
	}
	if err := db.Put([]byte("junk"), []byte(`not json`)); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRecord(db, "junk"); err == nil {
		t.Error("junk record accepted")
	}
}

// A password SASLprep refuses still works for PLAIN; SCRAM is not possible.
func TestStoreUnpreppablePassword(t *testing.T) {
	db := cyrusdb.NewMem()
	pw := "pa\U0001F600ss" // an emoji: unassigned in Unicode 3.2
	if err := setPassword(db, "alice", pw, testParams, false); err != nil {
		t.Fatal(err)
	}
	rec, err := loadRecord(db, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if rec.SHA1 != nil || rec.SHA256 != nil {
		t.Error("SCRAM verifiers stored for a password SASLprep refuses")
	}
	if ok, _ := rec.verifyPlain(pw); !ok {
		t.Error("password not accepted")
	}
}

// The record format is part of the on-disk contract: keep its field names.
func TestStoreRecordFormat(t *testing.T) {
	db := cyrusdb.NewMem()
	if err := setPassword(db, "alice", "pw", testParams, false); err != nil {
		t.Fatal(err)
	}
	raw, _ := db.Get([]byte("alice"))
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"v", "changed", "plain", "scram-sha-1", "scram-sha-256"} {
		if _, ok := m[k]; !ok {
			t.Errorf("record lacks %q: %s", k, raw)
		}
	}
	if string(m["v"]) != "1" {
		t.Errorf("version %s, want 1", m["v"])
	}
}
